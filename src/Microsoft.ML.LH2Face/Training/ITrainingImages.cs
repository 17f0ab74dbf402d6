namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// The training images as the batch loader reads them: held in memory (<see cref="FaceImageSet"/>) or decoded from their
/// source as each batch needs them (<see cref="StreamedFaceImages"/>). Both give the same pixels for the same index, so
/// the batches, and every loss, depend only on the seed.
/// </summary>
internal interface ITrainingImages
{
    int Count { get; }

    /// <summary>Zero-based class index of every image.</summary>
    int[] Labels { get; }

    int ClassCount { get; }

    int InputSize { get; }

    int PixelsPerImage { get; }

    /// <summary>
    /// Writes the images at <paramref name="indices"/> one after the other into <paramref name="destination"/> (planar RGB at
    /// the input size), the i-th mirrored left-right when <paramref name="flips"/>[i]. Called from the loader's thread.
    /// </summary>
    void Fill(int[] indices, bool[] flips, float[] destination);

    /// <summary>One line for the training log: how the images are held.</summary>
    string Describe();
}

using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Embedding;

/// <summary>
/// Turns aligned face crops into embeddings. With flip test an embedding is
/// emb(image) + emb(horizontally flipped image), not normalised (the evaluation protocols normalise
/// where they need to, and the IJB protocol uses the norm as a quality weight).
/// </summary>
public interface IFaceEmbedder : IDisposable
{
    /// <summary>Side of the square crop the model expects (112 for ArcFace-style models).</summary>
    int InputSize { get; }

    /// <summary>Embeds images given as <see cref="MLImage"/> (aligned crops of <see cref="InputSize"/> pixels square).</summary>
    /// <param name="images">Aligned face crops.</param>
    /// <param name="flipTest">Add the embedding of the horizontally flipped crop.</param>
    /// <param name="progress">Receives the number of images embedded so far.</param>
    float[][] Embed(IReadOnlyList<MLImage> images, bool flipTest, IProgress<int>? progress = null);

    /// <summary>
    /// Embeds images given as planar RGB floats in 0..255 (all red values row by row, then green, then
    /// blue), each 3 x <see cref="InputSize"/> x <see cref="InputSize"/> values.
    /// </summary>
    /// <param name="planarImages">Planar RGB crops.</param>
    /// <param name="flipTest">Add the embedding of the horizontally flipped crop.</param>
    /// <param name="progress">Receives the number of images embedded so far.</param>
    float[][] Embed(IReadOnlyList<float[]> planarImages, bool flipTest, IProgress<int>? progress = null);
}

using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// The one preprocessing of MLImage input, for training and for scoring alike: stretch to the square input size, then
/// planar RGB floats 0..255 (the network normalises them itself).
/// </summary>
internal static class Preprocessing
{
    /// <summary>Resizes <paramref name="imageColumn"/> into <paramref name="resizedColumn"/> and extracts its planar pixels into <paramref name="pixelColumn"/>.</summary>
    public static IEstimator<ITransformer> ImageToPixels(TransformsCatalog transforms, string imageColumn, string resizedColumn, string pixelColumn, int inputSize)
        => transforms.ResizeImages(resizedColumn, inputSize, inputSize, imageColumn, ImageResizingEstimator.ResizingKind.Fill)
            .Append(transforms.ExtractPixels(pixelColumn, resizedColumn, interleavePixelColors: false));
}

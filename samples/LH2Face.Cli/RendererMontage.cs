using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Alignment;
using Microsoft.ML.LH2Face.Data.Embedding;
using Microsoft.ML.LH2Face.Data.Reports;

namespace LH2Face.Cli;

/// <summary>
/// The montage 'lh2face train' writes after training with the renderer: one row per image, columns
/// input | reconstruction | canonical face | depth (grey, nearest white), every tile scaled to the
/// larger of the input size and the renderer resolution.
/// </summary>
public static class RendererMontage
{
    /// <summary>Column titles, left to right.</summary>
    public static readonly string[] Titles = ["input", "reconstruction", "canonical", "depth"];

    /// <summary>Images in a montage (or fewer when there are fewer).</summary>
    public const int DefaultImages = 6;

    /// <summary>The default montage path beside the model: model.zip -> model.montage.png.</summary>
    public static string DefaultPath(string modelPath) => Path.ChangeExtension(Path.GetFullPath(modelPath), ".montage.png");

    /// <summary>Renders <paramref name="images"/> with <paramref name="model"/> and writes the montage; returns its size in pixels.</summary>
    public static (int Width, int Height) Write(string path, LH2FaceTransformer model, IReadOnlyList<MLImage> images)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        int resolution = model.RendererResolution
            ?? throw new InvalidOperationException("The model has no renderer, so there is nothing to put in a montage: train with --renderer.");
        var pixels = ToInputPixels(images, model.InputSize);
        var renderings = model.Render(pixels);
        var rows = pixels.Zip(renderings, (input, r) => (IReadOnlyList<float[]>)[input, r.Reconstruction, r.CanonicalFace, ImageMontage.DepthToGrey(r.CanonicalDepth)]).ToList();
        return ImageMontage.Write(path, Titles, rows, Math.Max(model.InputSize, resolution));
    }

    /// <summary>
    /// The images at the model's input size as planar RGB 0..255: scaled with the bilinear warp that
    /// 'lh2face evaluate' uses for crops of another size (FaceAligner). The caller keeps its images.
    /// </summary>
    public static List<float[]> ToInputPixels(IReadOnlyList<MLImage> images, int size)
    {
        var result = new List<float[]>(images.Count);
        foreach (var image in images)
        {
            var scale = SimilarityTransform.FromScaleRotation((double)size / image.Width, 0, 0, 0);
            using var scaled = FaceAligner.Warp(image, scale, size, size);
            result.Add(PlanarImage.FromImage(scaled, size));
        }
        return result;
    }
}

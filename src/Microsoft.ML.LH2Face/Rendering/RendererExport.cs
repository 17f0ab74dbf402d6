using System.Globalization;
using Microsoft.ML.LH2Face.Onnx;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>Adds the renderer outputs to an exported inference graph: images as 0..255 planar RGB, clamped.</summary>
internal static class RendererExport
{
    /// <summary>
    /// Writes the renderer on the graph's unit embedding and backbone features and declares its
    /// outputs: [3*R*R] per row inside ML.NET (one row per run), [N, 3, R, R] in the standalone model,
    /// which also gets the canonical depth [N, 1, R, R] when <see cref="OnnxNames.CanonicalDepth"/> is set.
    /// </summary>
    public static void AddOutputs(OnnxGraphBuilder g, FaceRenderer renderer, string embedding, string features, OnnxNames names)
    {
        int r = renderer.Resolution;
        var values = renderer.ExportOnnx(g, embedding, features, "renderer");
        var reconstruction = ToPixels(g, values.Reconstruction);
        var canonical = ToPixels(g, values.Canonical);
        if (names.OneRowPerRun)
        {
            g.Identity(g.Reshape(reconstruction, 3L * r * r), names.Reconstruction);
            g.Identity(g.Reshape(canonical, 3L * r * r), names.CanonicalFace);
            g.AddOutput(names.Reconstruction, 3 * r * r);
            g.AddOutput(names.CanonicalFace, 3 * r * r);
        }
        else
        {
            g.Identity(reconstruction, names.Reconstruction);
            g.Identity(canonical, names.CanonicalFace);
            g.AddOutput(names.Reconstruction, "N", 3, r, r);
            g.AddOutput(names.CanonicalFace, "N", 3, r, r);
            if (names.CanonicalDepth is not null)
            {
                g.Identity(values.Depth, names.CanonicalDepth);
                g.AddOutput(names.CanonicalDepth, "N", 1, r, r);
            }
        }
        g.SetMetadata(LH2FaceModelMetadata.RendererResolution, string.Create(CultureInfo.InvariantCulture, $"{r}x{r}"));
    }

    /// <summary><see cref="FaceRenderer.ToPixels"/> in ONNX.</summary>
    private static string ToPixels(OnnxGraphBuilder g, string image)
        => g.Clip(g.Mul(image, g.ConstantFloat(255f)), 0f, 255f);
}

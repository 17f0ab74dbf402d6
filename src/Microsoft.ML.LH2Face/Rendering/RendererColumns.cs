using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>The renderer's output columns of a transformer: planar RGB 0..255 vectors of 3 * Resolution^2 values.</summary>
internal sealed record RendererColumns(string Reconstruction, string CanonicalFace, int Resolution)
{
    /// <summary>The columns of a trainer's settings, or null when the renderer is off.</summary>
    public static RendererColumns? From(TrainerSettings settings)
        => settings.Renderer is { } renderer ? new RendererColumns(settings.Columns.Reconstruction, settings.Columns.CanonicalFace, renderer.Resolution) : null;
}

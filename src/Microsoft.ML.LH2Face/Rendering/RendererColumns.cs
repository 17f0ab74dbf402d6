namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>The renderer's output columns of a transformer: planar RGB 0..255 vectors of 3 * Resolution^2 values.</summary>
internal sealed record RendererColumns(string Reconstruction, string CanonicalFace, int Resolution)
{
    /// <summary>The columns of a trainer's options, or null when the renderer is off.</summary>
    public static RendererColumns? From(LH2FaceTrainer.Options options)
        => options.UseRenderer ? new RendererColumns(options.ReconstructionColumnName, options.CanonicalFaceColumnName, options.RendererResolution) : null;
}

using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>Adds the Reconstruction and CanonicalFace columns to a SchemaShape before Fit (<see cref="OutputColumns.AddVectors"/>).</summary>
internal static class RendererOutputColumns
{
    public static SchemaShape AddTo(SchemaShape input, LH2FaceTrainer.Options options)
    {
        var columns = RendererColumns.From(options);
        if (columns is null)
            return input;
        int size = 3 * columns.Resolution * columns.Resolution;
        return OutputColumns.AddVectors(input, (columns.Reconstruction, size), (columns.CanonicalFace, size));
    }
}

using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>Adds the Reconstruction and CanonicalFace columns to a SchemaShape before Fit (<see cref="OutputColumns.AddVectors"/>).</summary>
internal static class RendererOutputColumns
{
    public static SchemaShape AddTo(SchemaShape input, TrainerSettings settings)
    {
        var columns = RendererColumns.From(settings);
        if (columns is null)
            return input;
        int size = 3 * columns.Resolution * columns.Resolution;
        return OutputColumns.AddVectors(input, (columns.Reconstruction, size), (columns.CanonicalFace, size));
    }
}

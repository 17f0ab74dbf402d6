using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// Adds the Reconstruction and CanonicalFace columns to a SchemaShape before Fit, with the public
/// CustomMapping route <see cref="OutputColumns"/> uses (SchemaShape.Column has no public constructor).
/// </summary>
internal static class RendererOutputColumns
{
    public static SchemaShape AddTo(SchemaShape input, LH2FaceTrainer.Options options)
    {
        var columns = RendererColumns.From(options);
        if (columns is null)
            return input;
        var type = new VectorDataViewType(NumberDataViewType.Single, 3 * columns.Resolution * columns.Resolution);
        var outputDefinition = SchemaDefinition.Create(typeof(OutputRow));
        outputDefinition[nameof(OutputRow.Reconstruction)].ColumnName = columns.Reconstruction;
        outputDefinition[columns.Reconstruction].ColumnType = type;
        outputDefinition[nameof(OutputRow.CanonicalFace)].ColumnName = columns.CanonicalFace;
        outputDefinition[columns.CanonicalFace].ColumnType = type;
        var mapping = new MLContext().Transforms.CustomMapping<NoInput, OutputRow>(
            static (_, _) => { }, contractName: null, SchemaDefinition.Create(typeof(NoInput)), outputDefinition);
        return mapping.GetOutputSchema(input);
    }

    private sealed class NoInput
    {
    }

    private sealed class OutputRow
    {
        public float[] Reconstruction = Array.Empty<float>();

        public float[] CanonicalFace = Array.Empty<float>();
    }
}

using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// Adds the output columns to a SchemaShape. SchemaShape.Column has no public constructor, so the
/// columns come from a CustomMapping estimator's GetOutputSchema with a schema definition built at run
/// time (only its schema is used; it never maps data). Quality is a one-element vector: ML.NET's ONNX
/// scorer cannot produce a readable scalar column (a rank-0 ONNX output fails when read).
/// </summary>
internal static class OutputColumns
{
    public static SchemaShape AddTo(SchemaShape input, string embeddingColumn, string qualityColumn, int embeddingSize)
    {
        var outputDefinition = SchemaDefinition.Create(typeof(OutputRow));
        outputDefinition[nameof(OutputRow.Embedding)].ColumnName = embeddingColumn;
        outputDefinition[embeddingColumn].ColumnType = new VectorDataViewType(NumberDataViewType.Single, embeddingSize);
        outputDefinition[nameof(OutputRow.Quality)].ColumnName = qualityColumn;
        outputDefinition[qualityColumn].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1);
        var context = new MLContext();
        var mapping = context.Transforms.CustomMapping<NoInput, OutputRow>(
            static (_, _) => { }, contractName: null, SchemaDefinition.Create(typeof(NoInput)), outputDefinition);
        return mapping.GetOutputSchema(input);
    }

    private sealed class NoInput
    {
    }

    private sealed class OutputRow
    {
        public float[] Embedding = Array.Empty<float>();

        public float[] Quality = Array.Empty<float>();
    }
}

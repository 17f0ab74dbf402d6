using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// Adds output columns to a SchemaShape. SchemaShape.Column has no public constructor, so the columns come from a
/// CustomMapping estimator's GetOutputSchema with a schema definition built at run time (only its schema is used; it
/// never maps data). Quality is a one-element vector: ML.NET's ONNX scorer cannot produce a readable scalar column (a
/// rank-0 ONNX output fails when read).
/// </summary>
internal static class OutputColumns
{
    /// <summary>The embedding (a Single vector of <paramref name="embeddingSize"/>) and quality (a one-element vector) columns.</summary>
    public static SchemaShape AddTo(SchemaShape input, string embeddingColumn, string qualityColumn, int embeddingSize)
        => AddVectors(input, (embeddingColumn, embeddingSize), (qualityColumn, 1));

    /// <summary>Two Single vector columns of the given names and lengths.</summary>
    public static SchemaShape AddVectors(SchemaShape input, (string Name, int Size) first, (string Name, int Size) second)
    {
        var outputDefinition = SchemaDefinition.Create(typeof(OutputRow));
        outputDefinition[nameof(OutputRow.First)].ColumnName = first.Name;
        outputDefinition[first.Name].ColumnType = new VectorDataViewType(NumberDataViewType.Single, first.Size);
        outputDefinition[nameof(OutputRow.Second)].ColumnName = second.Name;
        outputDefinition[second.Name].ColumnType = new VectorDataViewType(NumberDataViewType.Single, second.Size);
        var mapping = new MLContext().Transforms.CustomMapping<NoInput, OutputRow>(
            static (_, _) => { }, contractName: null, SchemaDefinition.Create(typeof(NoInput)), outputDefinition);
        return mapping.GetOutputSchema(input);
    }

    private sealed class NoInput
    {
    }

    private sealed class OutputRow
    {
        public float[] First = Array.Empty<float>();

        public float[] Second = Array.Empty<float>();
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace LH2Face.Benchmarks;

/// <summary>One face as the renderer benchmarks feed it to the trainer: planar RGB 0..255 at the input size, and its identity.</summary>
internal sealed class PixelRow
{
    public string Identity { get; set; } = "";

    public float[] Pixels { get; set; } = Array.Empty<float>();

    /// <summary>The rows as a data view whose Pixels column is a vector of 3 x size x size values.</summary>
    public static IDataView Load(MLContext ml, IEnumerable<PixelRow> rows, int size)
    {
        var definition = SchemaDefinition.Create(typeof(PixelRow));
        definition[nameof(Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * size * size);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary><see cref="Load"/> plus the key column "Label" mapped from Identity, as the trainer takes it.</summary>
    public static IDataView LoadKeyed(MLContext ml, IEnumerable<PixelRow> rows, int size)
    {
        var raw = Load(ml, rows, size);
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(Identity)).Fit(raw).Transform(raw);
    }
}

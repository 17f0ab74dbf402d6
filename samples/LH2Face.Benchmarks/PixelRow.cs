using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Synthetic;

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

    /// <summary>
    /// <paramref name="count"/> SynthFace faces as rows: row k is the sample <paramref name="at"/>(k) gives (identity,
    /// sample), its identity written "D4", its pixels planar at <paramref name="size"/> (area-resized from the generator's
    /// size when they differ). Generated in parallel; the rows do not depend on the thread count.
    /// </summary>
    public static PixelRow[] Generate(SynthFaceGenerator generator, int count, Func<int, (int Identity, int Sample)> at, int size)
    {
        var rows = new PixelRow[count];
        Parallel.For(0, count, k =>
        {
            var (id, s) = at(k);
            var sample = generator.Generate(id, s);
            var planar = ImageFidelity.ToPlanar(sample.Rgb, sample.Size);
            rows[k] = new PixelRow
            {
                Identity = id.ToString("D4", CultureInfo.InvariantCulture),
                Pixels = sample.Size == size ? planar : ImageFidelity.ResizeArea(planar, 3, sample.Size, size),
            };
        });
        return rows;
    }

    /// <summary><see cref="Load"/> plus the key column "Label" mapped from Identity, as the trainer takes it.</summary>
    public static IDataView LoadKeyed(MLContext ml, IEnumerable<PixelRow> rows, int size)
    {
        var raw = Load(ml, rows, size);
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(Identity)).Fit(raw).Transform(raw);
    }
}

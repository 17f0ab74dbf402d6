using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Testing;

namespace Microsoft.ML.LH2Face.Tests;

/// <summary>One generated image with its identity.</summary>
public sealed class FaceRow
{
    public string Identity { get; set; } = "";

    // ML.NET 5.0.1: the parameterless ImageType attribute throws; the size is nominal (ResizeImages reads the real one).
    [Microsoft.ML.Transforms.Image.ImageType(40, 40)]
    public MLImage? Image { get; set; }
}

/// <summary>One generated image as planar pixels.</summary>
public sealed class PixelRow
{
    public string Identity { get; set; } = "";

    [VectorType]
    public float[] Pixels { get; set; } = Array.Empty<float>();
}

/// <summary>
/// Tiny learnable data for the tests, from <see cref="BlobFaces"/>, as MLImage rows, pixel rows or an
/// image folder.
/// </summary>
internal static class TestFaces
{
    /// <summary>SchemaShape.Create is internal to ML.NET; estimators get shapes from it, so the tests do too.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema)
        => (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic, new[] { typeof(DataViewSchema) })!
            .Invoke(null, new object[] { schema })!;

    public static byte[] Rgba(int identity, int sample, int size, int seed) => BlobFaces.Rgba(identity, sample, size, seed);

    public static MLImage Image(int identity, int sample, int size, int seed)
        => MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, Rgba(identity, sample, size, seed));

    /// <summary>Planar RGB 0..255, as ExtractPixels(interleavePixelColors: false) gives.</summary>
    public static float[] Planar(int identity, int sample, int size, int seed)
    {
        var rgba = Rgba(identity, sample, size, seed);
        var planar = new float[3 * size * size];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < size * size; i++)
                planar[c * size * size + i] = rgba[i * 4 + c];
        return planar;
    }

    /// <summary>An IDataView of in-memory images of any size (MLImage needs its column type set).</summary>
    public static IDataView ImageData(MLContext ml, IEnumerable<FaceRow> rows) => ml.Data.LoadFromEnumerable(rows);

    /// <summary>An IDataView of planar pixel rows whose vector column has the known size 3*size*size.</summary>
    public static IDataView PixelData(MLContext ml, IEnumerable<PixelRow> rows, int size)
    {
        var definition = SchemaDefinition.Create(typeof(PixelRow));
        definition[nameof(PixelRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * size * size);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    public static List<FaceRow> ImageRows(int identities, int samples, int size, int seed, int firstSample = 0)
        => Rows(identities, samples, firstSample, (i, s) => new FaceRow { Identity = $"id{i:D3}", Image = Image(i, s, size, seed) });

    public static List<PixelRow> PixelRows(int identities, int samples, int size, int seed, int firstSample = 0)
        => Rows(identities, samples, firstSample, (i, s) => new PixelRow { Identity = $"id{i:D3}", Pixels = Planar(i, s, size, seed) });

    private static List<T> Rows<T>(int identities, int samples, int firstSample, Func<int, int, T> make)
    {
        var rows = new List<T>();
        for (int s = firstSample; s < firstSample + samples; s++)
            for (int i = 0; i < identities; i++)
                rows.Add(make(i, s));
        return rows;
    }

    /// <summary>A quick CPU configuration: Compact backbone at 32 px, 32-d embedding.</summary>
    public static LH2FaceTrainer.Options QuickOptions(int epochs = 6, int batchSize = 16) => new()
    {
        Backbone = LH2FaceBackbone.Compact,
        InputSize = 32,
        EmbeddingSize = 32,
        Epochs = epochs,
        BatchSize = batchSize,
        LearningRate = 0.05f,
        Device = LH2FaceDevice.Cpu,
        Seed = 7,
    };

    /// <summary>
    /// Fits <paramref name="options"/> on <paramref name="data"/> in a fresh MLContext and returns every step's loss, the
    /// embeddings of every row (flattened) and the trainer's info lines from the ML.NET log; <paramref name="onReport"/>
    /// also sees each progress report as it comes.
    /// </summary>
    public static (float[] Losses, float[] Embeddings, List<string> Log) FitAndRecord(IDataView data, LH2FaceTrainer.Options options, Action<LH2FaceProgress>? onReport = null)
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source == "LH2Face" && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (log) log.Add(e.RawMessage); };
        var recorder = new ProgressRecorder { OnReport = onReport };
        options.Progress = recorder;
        using var model = ml.Transforms.LH2Face(options).Fit(data);
        var embeddings = model.Transform(data).GetColumn<float[]>(options.EmbeddingColumnName).SelectMany(e => e).ToArray();
        return (recorder.Reports.Select(r => r.Loss).ToArray(), embeddings, log);
    }

    public static double Cosine(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);
}

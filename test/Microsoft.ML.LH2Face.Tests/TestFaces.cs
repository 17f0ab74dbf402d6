using Microsoft.ML.Data;

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
/// A tiny learnable face-like set: each identity is a background tone and four coloured Gaussian blobs
/// at identity-specific places; each image shifts them by up to 2 px, changes brightness and adds noise.
/// Deterministic for a seed.
/// </summary>
internal static class TestFaces
{
    public static byte[] Rgba(int identity, int sample, int size, int seed)
    {
        var id = new Random(HashCode.Combine(seed, identity));
        var blobs = Enumerable.Range(0, 4).Select(_ => (
            X: size * (0.2 + 0.6 * id.NextDouble()), Y: size * (0.2 + 0.6 * id.NextDouble()), R: size * (0.08 + 0.1 * id.NextDouble()),
            C: new[] { id.Next(256), id.Next(256), id.Next(256) })).ToArray();
        var background = new[] { id.Next(40, 200), id.Next(40, 200), id.Next(40, 200) };
        var rng = new Random(HashCode.Combine(seed, identity, sample, 7));
        double dx = rng.Next(-2, 3), dy = rng.Next(-2, 3), gain = 0.8 + 0.4 * rng.NextDouble();
        var rgba = new byte[size * size * 4];
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    double v = background[c];
                    foreach (var b in blobs)
                    {
                        double d2 = (x - b.X - dx) * (x - b.X - dx) + (y - b.Y - dy) * (y - b.Y - dy);
                        double w = Math.Exp(-d2 / (2 * b.R * b.R));
                        v = v * (1 - w) + b.C[c] * w;
                    }
                    v = v * gain + (rng.NextDouble() - 0.5) * 16;
                    rgba[(y * size + x) * 4 + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
                rgba[(y * size + x) * 4 + 3] = 255;
            }
        }
        return rgba;
    }

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

    /// <summary>Writes root/idNNN/NNN.png for LoadImages pipelines; returns (path, identity) rows.</summary>
    public static List<(string Path, string Identity)> WriteFolder(string root, int identities, int samples, int size, int seed)
    {
        var rows = new List<(string, string)>();
        for (int i = 0; i < identities; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, $"id{i:D3}")).FullName;
            for (int s = 0; s < samples; s++)
            {
                var path = Path.Combine(dir, $"{s:D3}.png");
                using var image = Image(i, s, size, seed);
                image.Save(path);
                rows.Add((path, $"id{i:D3}"));
            }
        }
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

    public static double Cosine(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);
}

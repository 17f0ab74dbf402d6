using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Testing;

/// <summary>
/// A small generated test data set (test code only, linked into the test projects that need images):
/// each identity is a background tone and four coloured Gaussian blobs at identity-specific places; each
/// image shifts them by up to 2 px, changes brightness and adds noise. Deterministic for a seed (it draws
/// from <see cref="StableRandom"/>), and learnable enough for a few training steps. It is not face data.
/// </summary>
internal static class BlobFaces
{
    /// <summary>Writes root/idNNN/NNN.png and returns the image paths.</summary>
    public static List<string> Write(string root, int identities, int samples, int size, int seed = 3)
    {
        var paths = new List<string>();
        for (int i = 0; i < identities; i++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, $"id{i:D3}")).FullName;
            for (int s = 0; s < samples; s++)
            {
                var path = Path.Combine(dir, $"{s:D3}.png");
                using var image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, Rgba(i, s, size, seed));
                image.Save(path);
                paths.Add(path);
            }
        }
        return paths;
    }

    /// <summary>One image as RGBA bytes.</summary>
    public static byte[] Rgba(int identity, int sample, int size, int seed)
    {
        var id = new StableRandom(seed, identity);
        var blobs = Enumerable.Range(0, 4).Select(_ => (
            X: size * (0.2 + 0.6 * id.NextDouble()), Y: size * (0.2 + 0.6 * id.NextDouble()), R: size * (0.08 + 0.1 * id.NextDouble()),
            C: new[] { id.Next(256), id.Next(256), id.Next(256) })).ToArray();
        var background = new[] { id.Next(40, 200), id.Next(40, 200), id.Next(40, 200) };
        var rng = new StableRandom(seed, identity, sample, 7);
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
}

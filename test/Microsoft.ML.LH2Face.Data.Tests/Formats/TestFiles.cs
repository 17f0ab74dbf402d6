using System.Buffers.Binary;
using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

/// <summary>A temporary folder deleted on dispose, and small byte-building helpers for fixtures.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Path = Directory.CreateTempSubdirectory("lh2face-formats-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Little-endian byte builder for hand-made fixtures.</summary>
internal sealed class Bytes
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public Bytes U8(params int[] values)
    {
        foreach (var v in values)
        {
            _bytes.Add((byte)v);
        }
        return this;
    }

    public Bytes U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public Bytes I32(int value) => U32((uint)value);

    public Bytes F32(float value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public Bytes U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public Bytes Ascii(string text)
    {
        _bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(text));
        return this;
    }

    public Bytes Raw(byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];
}

internal static class TestImages
{
    /// <summary>PNG bytes of a w x h RGBA image whose pixel (x, y) is (x * 10 + seed, y * 10, seed, 255).</summary>
    public static byte[] Png(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * 4;
                pixels[o] = (byte)(x * 10 + seed);
                pixels[o + 1] = (byte)(y * 10);
                pixels[o + 2] = (byte)seed;
                pixels[o + 3] = 255;
            }
        }
        using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, pixels);
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lh2face-{Guid.NewGuid():N}.png");
        try
        {
            image.Save(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

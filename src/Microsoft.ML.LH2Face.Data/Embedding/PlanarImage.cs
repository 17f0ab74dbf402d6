using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Embedding;

/// <summary>Conversions between <see cref="MLImage"/> and planar RGB floats (0..255), and horizontal flips.</summary>
public static class PlanarImage
{
    /// <summary>Planar RGB (the layout the models take) of an image that must be <paramref name="size"/> pixels square, Bgra32 or Rgba32.</summary>
    /// <param name="image">The image.</param>
    /// <param name="size">Its expected side in pixels.</param>
    /// <param name="index">Its position in the caller's list, for error messages.</param>
    public static float[] FromImage(MLImage image, int size, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width != size || image.Height != size)
            throw new ArgumentException($"images[{index}] is {image.Width}x{image.Height}; the model expects aligned {size}x{size} crops: align (5-point similarity) or resize the faces first.", "images");
        bool bgra = image.PixelFormat switch
        {
            MLPixelFormat.Bgra32 => true,
            MLPixelFormat.Rgba32 => false,
            _ => throw new ArgumentException($"images[{index}] has pixel format {image.PixelFormat}; only Bgra32 and Rgba32 are supported.", "images"),
        };
        ReadOnlySpan<byte> pixels = image.Pixels;
        int stride = pixels.Length / size;
        int plane = size * size;
        var planar = new float[3 * plane];
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                int p = y * stride + 4 * x, q = y * size + x;
                planar[q] = pixels[bgra ? p + 2 : p];
                planar[plane + q] = pixels[p + 1];
                planar[2 * plane + q] = pixels[bgra ? p : p + 2];
            }
        }
        return planar;
    }

    /// <summary>An opaque RGBA image of planar RGB values (rounded and clamped to 0..255).</summary>
    /// <param name="planar">3 x size x size values.</param>
    /// <param name="size">Side in pixels.</param>
    public static MLImage ToImage(float[] planar, int size)
    {
        int plane = size * size;
        var rgba = new byte[4 * plane];
        for (int q = 0; q < plane; q++)
        {
            rgba[4 * q] = ToByte(planar[q]);
            rgba[4 * q + 1] = ToByte(planar[plane + q]);
            rgba[4 * q + 2] = ToByte(planar[2 * plane + q]);
            rgba[4 * q + 3] = 255;
        }
        return MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, rgba);

        static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);
    }

    /// <summary>The horizontal mirror of a planar image (any number of planes).</summary>
    internal static float[] FlipHorizontal(float[] planar, int size)
    {
        var flipped = new float[planar.Length];
        int rows = planar.Length / size;
        for (int r = 0; r < rows; r++)
        {
            planar.AsSpan(r * size, size).CopyTo(flipped.AsSpan(r * size, size));
            flipped.AsSpan(r * size, size).Reverse();
        }
        return flipped;
    }

    /// <summary>Side of a planar RGB image from its length, checked against the expected size.</summary>
    internal static void CheckPlanar(float[] planar, int size, int index)
    {
        ArgumentNullException.ThrowIfNull(planar);
        if (planar.Length != 3 * size * size)
            throw new ArgumentException($"planarImages[{index}] has {planar.Length} values; the model expects planar RGB 3*{size}*{size} = {3 * size * size}: align or resize the crop to {size}x{size}.", "planarImages");
    }
}

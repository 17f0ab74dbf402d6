using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Applies a <see cref="SynthFaceDegradation"/> to an RGB image in place. Blurs and resampling are
/// written by hand on a float buffer (a few separable loops, cheaper than round trips through a canvas);
/// JPEG goes through SkiaSharp's encoder and decoder, so the artefacts are a real codec's.
/// </summary>
internal static class SynthFaceDegrader
{
    public static void Apply(SynthFaceDegradation d, byte[] rgb, int size)
    {
        if (d.IsNone) return;
        float unit = size / (float)FaceTemplate.Size;
        var img = new float[rgb.Length];
        for (int i = 0; i < rgb.Length; i++) img[i] = rgb[i] * (float)d.ExposureGain;
        if (d.GaussianBlurSigma > 0) GaussianBlur(img, size, (float)d.GaussianBlurSigma * unit);
        if (d.MotionBlurLength > 0) MotionBlur(img, size, (float)d.MotionBlurLength * unit, (float)d.MotionBlurAngle);
        if (d.DownsampleSize > 0 && d.DownsampleSize < size) DownUp(img, size, d.DownsampleSize);
        if (d.NoiseSigma > 0)
        {
            // Irwin-Hall: four 16-bit uniforms from one draw, summed, are Gaussian enough for sensor noise and 10x cheaper.
            var rng = new StableRandom(d.NoiseSeed, 77);
            float scale = (float)d.NoiseSigma * MathF.Sqrt(3f) / 65536f;
            for (int i = 0; i < img.Length; i++)
            {
                ulong r = rng.NextULong();
                img[i] += scale * ((float)(r & 0xFFFF) + (float)((r >> 16) & 0xFFFF) + (float)((r >> 32) & 0xFFFF) + (float)(r >> 48) - 131070f);
            }
        }
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)Math.Clamp((int)(img[i] + 0.5f), 0, 255);
        if (d.JpegQuality > 0) Jpeg(rgb, size, d.JpegQuality);
    }

    /// <summary>Separable Gaussian blur with clamped borders.</summary>
    public static void GaussianBlur(float[] img, int size, float sigma)
    {
        int radius = Math.Max(1, (int)MathF.Ceiling(2.5f * sigma));
        var kernel = new float[2 * radius + 1];
        float sum = 0;
        for (int i = -radius; i <= radius; i++) sum += kernel[i + radius] = MathF.Exp(-0.5f * i * i / (sigma * sigma));
        for (int i = 0; i < kernel.Length; i++) kernel[i] /= sum;
        // One padded line at a time, so the inner loop has no border checks.
        var line = new float[3 * (size + 2 * radius)];
        for (int pass = 0; pass < 2; pass++)
        {
            int step = pass == 0 ? 3 : 3 * size, lineStride = pass == 0 ? 3 * size : 3;
            for (int l = 0; l < size; l++)
            {
                int start = l * lineStride;
                for (int p = -radius; p < size + radius; p++)
                {
                    int src = start + Math.Clamp(p, 0, size - 1) * step, dst = 3 * (p + radius);
                    line[dst] = img[src]; line[dst + 1] = img[src + 1]; line[dst + 2] = img[src + 2];
                }
                for (int p = 0; p < size; p++)
                {
                    float r = 0, g = 0, b = 0;
                    int o = 3 * p;
                    for (int k = 0; k < kernel.Length; k++, o += 3)
                    {
                        float w = kernel[k];
                        r += w * line[o]; g += w * line[o + 1]; b += w * line[o + 2];
                    }
                    int d = start + p * step;
                    img[d] = r; img[d + 1] = g; img[d + 2] = b;
                }
            }
        }
    }

    /// <summary>Average along a line of the given length and direction (bilinear taps, clamped borders).</summary>
    public static void MotionBlur(float[] img, int size, float length, float angleDegrees)
    {
        int taps = Math.Max(2, (int)MathF.Ceiling(length / 1.5f) + 1);
        float a = angleDegrees * MathF.PI / 180, dx = MathF.Cos(a), dy = MathF.Sin(a);
        var src = (float[])img.Clone();
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int t = 0; t < taps; t++)
                {
                    float s = (t / (taps - 1f) - 0.5f) * length;
                    Bilinear(src, size, x + s * dx, y + s * dy, out float sr, out float sg, out float sb);
                    r += sr; g += sg; b += sb;
                }
                int o = 3 * (y * size + x);
                img[o] = r / taps; img[o + 1] = g / taps; img[o + 2] = b / taps;
            }
    }

    /// <summary>Area-average down to <paramref name="small"/> pixels, then bilinear back up.</summary>
    public static void DownUp(float[] img, int size, int small)
    {
        var low = new float[small * small * 3];
        float scale = size / (float)small;
        for (int y = 0; y < small; y++)
            for (int x = 0; x < small; x++)
            {
                int xs = (int)(x * scale), xe = Math.Max(xs + 1, (int)((x + 1) * scale));
                int ys = (int)(y * scale), ye = Math.Max(ys + 1, (int)((y + 1) * scale));
                float r = 0, g = 0, b = 0;
                for (int yy = ys; yy < ye; yy++)
                    for (int xx = xs; xx < xe; xx++)
                    {
                        int o = 3 * (yy * size + xx);
                        r += img[o]; g += img[o + 1]; b += img[o + 2];
                    }
                float n = (xe - xs) * (ye - ys);
                int lo = 3 * (y * small + x);
                low[lo] = r / n; low[lo + 1] = g / n; low[lo + 2] = b / n;
            }
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                Bilinear(low, small, (x + 0.5f) / scale - 0.5f, (y + 0.5f) / scale - 0.5f, out float r, out float g, out float b);
                int o = 3 * (y * size + x);
                img[o] = r; img[o + 1] = g; img[o + 2] = b;
            }
    }

    private static void Bilinear(float[] img, int size, float x, float y, out float r, out float g, out float b)
    {
        x = Math.Clamp(x, 0, size - 1); y = Math.Clamp(y, 0, size - 1);
        int x0 = Math.Min((int)x, size - 2), y0 = Math.Min((int)y, size - 2);
        float fx = x - x0, fy = y - y0;
        int i00 = 3 * (y0 * size + x0), i10 = i00 + 3, i01 = i00 + 3 * size, i11 = i01 + 3;
        float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        r = w00 * img[i00] + w10 * img[i10] + w01 * img[i01] + w11 * img[i11];
        g = w00 * img[i00 + 1] + w10 * img[i10 + 1] + w01 * img[i01 + 1] + w11 * img[i11 + 1];
        b = w00 * img[i00 + 2] + w10 * img[i10 + 2] + w01 * img[i01 + 2] + w11 * img[i11 + 2];
    }

    /// <summary>Encodes as JPEG at <paramref name="quality"/> with SkiaSharp and decodes back into <paramref name="rgb"/>.</summary>
    public static void Jpeg(byte[] rgb, int size, int quality)
    {
        var rgba = new byte[size * size * 4];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i]; rgba[j + 1] = rgb[i + 1]; rgba[j + 2] = rgb[i + 2]; rgba[j + 3] = 255;
        }
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, rgba);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var decoded = SKBitmap.Decode(data, info);
        var pixels = decoded.GetPixelSpan();
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = pixels[j]; rgb[i + 1] = pixels[j + 1]; rgb[i + 2] = pixels[j + 2];
        }
    }
}

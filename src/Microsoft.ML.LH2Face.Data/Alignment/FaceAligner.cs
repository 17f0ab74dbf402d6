using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Alignment;

/// <summary>
/// 5-point face alignment to the ArcFace template: a least-squares similarity from the detected points to
/// <see cref="FaceTemplate.Points112"/> (scaled by size / 112 for other crop sizes), then an inverse-mapped warp
/// with bilinear sampling and a zero border. Pixel centres sit at integer coordinates, as in OpenCV warpAffine:
/// dst(x, y) = src(M^-1 (x, y)). Unlike OpenCV, sampling weights are exact rather than quantised to 1/32 pixel.
/// </summary>
public static class FaceAligner
{
    /// <summary>The template points for a square crop of side <paramref name="size"/> (Points112 scaled by size / 112).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    public static float[] TemplatePoints(int size = FaceTemplate.Size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var points = FaceTemplate.Points112.ToArray();
        float ratio = size / (float)FaceTemplate.Size;
        for (int i = 0; i < points.Length; i++)
        {
            points[i] *= ratio;
        }
        return points;
    }

    /// <summary>The similarity mapping 5 source points (x0, y0, ..., x4, y4) onto the template for a crop of side <paramref name="size"/>.</summary>
    /// <exception cref="ArgumentException">The span does not hold 10 values, or the points coincide.</exception>
    public static SimilarityTransform EstimateTransform(ReadOnlySpan<float> points5, int size = FaceTemplate.Size)
    {
        if (points5.Length != 10)
        {
            throw new ArgumentException($"Expected 5 (x, y) points (10 values), got {points5.Length} values.", nameof(points5));
        }
        return SimilarityTransform.Estimate(points5, TemplatePoints(size));
    }

    /// <summary>
    /// Warps an interleaved 8-bit image (<paramref name="channels"/> bytes per pixel, e.g. 4 for RGBA) into a new
    /// <paramref name="outWidth"/> x <paramref name="outHeight"/> image: out(x, y) = bilinear source at
    /// <paramref name="transform"/>^-1 (x, y), with zero outside the source; values rounded to nearest.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer size does not match width x height x channels.</exception>
    public static byte[] WarpInterleaved(ReadOnlySpan<byte> source, int width, int height, int channels, SimilarityTransform transform, int outWidth, int outHeight)
    {
        var values = Warp(source, width, height, channels, planar: false, transform, outWidth, outHeight);
        var result = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = (byte)Math.Clamp(Math.Round(values[i], MidpointRounding.AwayFromZero), 0, 255);
        return result;
    }

    /// <summary>
    /// Warps a planar float image (<paramref name="channels"/> planes of width x height, channel-major) into new planes
    /// of <paramref name="outWidth"/> x <paramref name="outHeight"/>, bilinear, zero border, no rounding.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer size does not match width x height x channels.</exception>
    public static float[] WarpPlanar(ReadOnlySpan<float> source, int width, int height, int channels, SimilarityTransform transform, int outWidth, int outHeight)
    {
        var values = Warp(source, width, height, channels, planar: true, transform, outWidth, outHeight);
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = (float)values[i];
        return result;
    }

    /// <summary>
    /// The bilinear warp both layouts share: out(x, y) = source at transform^-1 (x, y), zero outside, in
    /// the same layout as the source (interleaved: pixel-major; planar: channel-major planes).
    /// </summary>
    private static double[] Warp<T>(ReadOnlySpan<T> source, int width, int height, int channels, bool planar, SimilarityTransform transform, int outWidth, int outHeight)
        where T : System.Numerics.INumberBase<T>
    {
        CheckSize(source.Length, width, height, channels, nameof(source));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        var inverse = transform.Invert();
        var result = new double[outWidth * outHeight * channels];
        // Index of (pixel, channel): interleaved pixel * channels + c; planar c * plane + pixel.
        int pixelStride = planar ? 1 : channels, channelStride = planar ? width * height : 1;
        int outPixelStride = planar ? 1 : channels, outChannelStride = planar ? outWidth * outHeight : 1;
        Span<int> indices = stackalloc int[4];
        Span<double> weights = stackalloc double[4];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                var (sx, sy) = inverse.Apply(x, y);
                int count = Sample(sx, sy, width, height, indices, weights);
                int o = (y * outWidth + x) * outPixelStride;
                for (int c = 0; c < channels; c++)
                {
                    double acc = 0;
                    for (int k = 0; k < count; k++)
                        acc += weights[k] * double.CreateTruncating(source[indices[k] * pixelStride + c * channelStride]);
                    result[o + c * outChannelStride] = acc;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Aligns a face: fits the similarity from <paramref name="points5"/> (in <paramref name="image"/> pixels) to the
    /// template and returns a new <paramref name="size"/> x <paramref name="size"/> image in the same pixel format.
    /// The caller owns (and disposes) the result.
    /// </summary>
    public static MLImage Align(MLImage image, ReadOnlySpan<float> points5, int size = FaceTemplate.Size)
        => Warp(image, EstimateTransform(points5, size), size, size);

    /// <summary>Warps an <see cref="MLImage"/> with <paramref name="transform"/> (source to output) into a new image of the same pixel format.</summary>
    public static MLImage Warp(MLImage image, SimilarityTransform transform, int outWidth, int outHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = WarpInterleaved(image.Pixels, image.Width, image.Height, image.BitsPerPixel / 8, transform, outWidth, outHeight);
        return MLImage.CreateFromPixels(outWidth, outHeight, image.PixelFormat, pixels);
    }

    // Bilinear weights of the four neighbours of (sx, sy); neighbours outside the image contribute zero (constant border).
    private static int Sample(double sx, double sy, int width, int height, Span<int> indices, Span<double> weights)
    {
        double fx = Math.Floor(sx), fy = Math.Floor(sy);
        if (fx < -1 || fy < -1 || fx >= width || fy >= height)
        {
            return 0;
        }
        int count = 0;
        int x0 = (int)fx, y0 = (int)fy;
        double wx = sx - fx, wy = sy - fy;
        for (int dy = 0; dy < 2; dy++)
        {
            int yy = y0 + dy;
            double weightY = dy == 0 ? 1 - wy : wy;
            if (yy < 0 || yy >= height || weightY == 0)
            {
                continue;
            }
            for (int dx = 0; dx < 2; dx++)
            {
                int xx = x0 + dx;
                double weight = weightY * (dx == 0 ? 1 - wx : wx);
                if (xx < 0 || xx >= width || weight == 0)
                {
                    continue;
                }
                indices[count] = yy * width + xx;
                weights[count++] = weight;
            }
        }
        return count;
    }

    private static void CheckSize(int length, int width, int height, int channels, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if ((long)width * height * channels != length)
        {
            throw new ArgumentException($"Buffer holds {length} values but {width}x{height}x{channels} needs {(long)width * height * channels}.", name);
        }
    }
}

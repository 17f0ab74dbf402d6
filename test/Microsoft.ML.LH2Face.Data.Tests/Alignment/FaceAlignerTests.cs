using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Alignment;

namespace Microsoft.ML.LH2Face.Data.Tests.Alignment;

[TestClass]
public sealed class FaceAlignerTests
{
    private static byte[] RandomImage(int width, int height, int channels, int seed)
    {
        var pixels = new byte[width * height * channels];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    // Direct bilinear sample with zero outside, written independently of the library.
    private static double Reference(byte[] src, int width, int height, int channels, int c, double x, double y)
    {
        double Pixel(int px, int py) => px < 0 || py < 0 || px >= width || py >= height ? 0 : src[(py * width + px) * channels + c];
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        return (1 - fx) * (1 - fy) * Pixel(x0, y0) + fx * (1 - fy) * Pixel(x0 + 1, y0)
            + (1 - fx) * fy * Pixel(x0, y0 + 1) + fx * fy * Pixel(x0 + 1, y0 + 1);
    }

    [TestMethod]
    public void WarpInterleaved_KnownTransform_MatchesDirectBilinearSampling()
    {
        const int width = 23, height = 17, channels = 4, outWidth = 20, outHeight = 19;
        var src = RandomImage(width, height, channels, 5);
        var transform = SimilarityTransform.FromScaleRotation(1.3, 0.6, 4.2, -3.7);
        var warped = FaceAligner.WarpInterleaved(src, width, height, channels, transform, outWidth, outHeight);
        var inverse = transform.Invert();
        int borderPixels = 0;
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                var (sx, sy) = inverse.Apply(x, y);
                if (sx < -1 || sy < -1 || sx > width || sy > height)
                {
                    borderPixels++;
                }
                for (int c = 0; c < channels; c++)
                {
                    double expected = Reference(src, width, height, channels, c, sx, sy);
                    Assert.AreEqual(expected, warped[(y * outWidth + x) * channels + c], 0.5 + 1e-9, $"({x}, {y}) channel {c}");
                }
            }
        }
        Assert.IsGreaterThan(0, borderPixels, "the test covers the zero border");
    }

    [TestMethod]
    public void WarpInterleaved_IntegerTranslation_ShiftsExactlyWithZeroBorder()
    {
        var src = RandomImage(6, 5, 1, 2);
        var warped = FaceAligner.WarpInterleaved(src, 6, 5, 1, new SimilarityTransform(1, 0, 2, 1), 6, 5);
        for (int y = 0; y < 5; y++)
        {
            for (int x = 0; x < 6; x++)
            {
                byte expected = x >= 2 && y >= 1 ? src[(y - 1) * 6 + (x - 2)] : (byte)0;
                Assert.AreEqual(expected, warped[y * 6 + x], $"({x}, {y})");
            }
        }
    }

    [TestMethod]
    public void WarpPlanar_SameTransform_AgreesWithInterleaved()
    {
        const int width = 9, height = 8;
        var interleaved = RandomImage(width, height, 3, 9);
        var planar = new float[interleaved.Length];
        for (int i = 0; i < width * height; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                planar[c * width * height + i] = interleaved[i * 3 + c];
            }
        }
        var transform = SimilarityTransform.FromScaleRotation(0.8, -0.2, 1.5, 2.5);
        var a = FaceAligner.WarpInterleaved(interleaved, width, height, 3, transform, 7, 6);
        var b = FaceAligner.WarpPlanar(planar, width, height, 3, transform, 7, 6);
        for (int i = 0; i < 7 * 6; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                Assert.AreEqual(a[i * 3 + c], b[c * 42 + i], 0.5 + 1e-4);
            }
        }
    }

    [TestMethod]
    public void Align_MLImage_Returns112CropEqualToWarpWithFittedTransform()
    {
        const int size = 160;
        var pixels = RandomImage(size, size, 4, 3);
        using var image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, pixels);
        var points = SimilarityTransform.FromScaleRotation(1.2, 0.1, 10, 15).Apply(FaceTemplate.Points112);
        using var aligned = FaceAligner.Align(image, points);
        Assert.AreEqual(112, aligned.Width);
        Assert.AreEqual(112, aligned.Height);
        Assert.AreEqual(MLPixelFormat.Rgba32, aligned.PixelFormat);
        var expected = FaceAligner.WarpInterleaved(pixels, size, size, 4, FaceAligner.EstimateTransform(points), 112, 112);
        CollectionAssert.AreEqual(expected, aligned.Pixels.ToArray());
    }

    [TestMethod]
    public void TemplatePoints_Size224_TwiceTheTemplate()
    {
        var expected = FaceTemplate.Points112.ToArray().Select(v => v * 2).ToArray();
        CollectionAssert.AreEqual(expected, FaceAligner.TemplatePoints(224));
        var fitted = FaceAligner.EstimateTransform(FaceTemplate.Points112, 224);
        Assert.AreEqual(2.0, fitted.Scale, 1e-6);
        Assert.AreEqual(0.0, fitted.Rotation, 1e-6);
    }
}

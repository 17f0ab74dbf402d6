using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class ImageFidelityTests
{
    [TestMethod]
    public void Psnr_HandBuiltImages_MatchesTheFormula()
    {
        // 2x2 RGB (12 values): errors 3 and -4 in two values, 0 elsewhere: MSE = (9 + 16) / 12.
        var reference = new float[12];
        for (int i = 0; i < 12; i++)
            reference[i] = 10 * i;
        var image = (float[])reference.Clone();
        image[1] += 3;
        image[7] -= 4;
        Assert.AreEqual(10 * Math.Log10(255.0 * 255.0 * 12 / 25), ImageFidelity.Psnr(image, reference), 1e-9);
        // Every value off by 255: MSE = 255^2, PSNR = 0 dB; off by 1 everywhere: 20 log10(255) = 48.1308 dB.
        Assert.AreEqual(0, ImageFidelity.Psnr(new float[] { 0, 0, 0 }, new float[] { 255, 255, 255 }), 1e-12);
        Assert.AreEqual(48.130803608679, ImageFidelity.Psnr(new float[] { 1, 2, 3 }, new float[] { 2, 3, 4 }), 1e-9);
        Assert.AreEqual(double.PositiveInfinity, ImageFidelity.Psnr(reference, reference));
    }

    [TestMethod]
    public void Psnr_DifferentSizes_ThrowsNamingTheFix()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageFidelity.Psnr(new float[12], new float[27]));
        StringAssert.Contains(e.Message, "ResizeArea");
    }

    [TestMethod]
    public void ResizeArea_IntegerAndFractionalRatios_AverageTheAdaptivePoolWindows()
    {
        // 4x4 -> 2x2: plain 2x2 block means.
        float[] plane = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        CollectionAssert.AreEqual(new float[] { 3.5f, 5.5f, 11.5f, 13.5f }, ImageFidelity.ResizeArea(plane, 1, 4, 2));
        // 3x3 -> 2x2: windows rows/cols [0, 2) and [1, 3) overlap in the middle, as adaptive_avg_pool2d's.
        float[] small = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        CollectionAssert.AreEqual(new float[] { 3, 4, 6, 7 }, ImageFidelity.ResizeArea(small, 1, 3, 2));
        // Channels are resized independently.
        var two = ImageFidelity.ResizeArea([.. plane, .. plane.Select(v => 2 * v)], 2, 4, 1);
        CollectionAssert.AreEqual(new float[] { 8.5f, 17f }, two);
    }

    [TestMethod]
    public void ToPlanar_InterleavedRgb_SplitsThePlanes()
    {
        byte[] rgb = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        CollectionAssert.AreEqual(new float[] { 1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12 }, ImageFidelity.ToPlanar(rgb, 2));
    }

    [TestMethod]
    public void Summarise_OddAndEvenCounts_MeanAndMedian()
    {
        Assert.AreEqual(new ImageFidelityResult(3, 20, 15), ImageFidelity.Summarise([15, 40, 5]));
        Assert.AreEqual(new ImageFidelityResult(4, 25, 25), ImageFidelity.Summarise([10, 20, 30, 40]));
    }
}

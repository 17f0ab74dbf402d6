using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceDegraderTests
{
    private static readonly SynthFaceGenerator Generator = new(new SynthFaceOptions { Seed = 21 });

    /// <summary>Variance of the 4-neighbour Laplacian of the grey image: a standard sharpness measure.</summary>
    internal static double LaplacianVariance(byte[] rgb, int size)
    {
        var grey = new double[size * size];
        for (int i = 0; i < grey.Length; i++) grey[i] = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3.0;
        var values = new List<double>();
        for (int y = 1; y < size - 1; y++)
            for (int x = 1; x < size - 1; x++)
                values.Add(grey[(y - 1) * size + x] + grey[(y + 1) * size + x] + grey[y * size + x - 1] + grey[y * size + x + 1] - 4 * grey[y * size + x]);
        double mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / values.Count;
    }

    private static byte[] Degrade(SynthFaceDegradation d) => Generator.Render(0, SynthFaceFactors.Neutral with { Degradation = d }).Rgb;

    [TestMethod]
    public void Severity_HandComputedSteps()
    {
        Assert.AreEqual(0, SynthFaceDegradation.None.Severity);
        // Mild blur (sigma 1.2) = 0.5; harshest noise (14) = 1; JPEG quality 19 = 0.5 + 0.5 * (81 - 70) / 22 = 0.75.
        var d = new SynthFaceDegradation { GaussianBlurSigma = 1.2, NoiseSigma = 14, JpegQuality = 19 };
        Assert.AreEqual(0.5 + 1 + 0.75, d.Severity, 1e-12);
        // Down-sampling to 32 px: 64 - 32 = 32 in 16..48 -> 0.75; exposure gain 2^-1.3 -> 1; motion blur past its range clamps to 1.
        Assert.AreEqual(0.75 + 1 + 1, new SynthFaceDegradation { DownsampleSize = 32, ExposureGain = Math.Pow(2, -1.3), MotionBlurLength = 20 }.Severity, 1e-12);
    }

    [TestMethod]
    public void Blur_AndDownsampling_LowerLaplacianVariance()
    {
        double sharp = LaplacianVariance(Degrade(SynthFaceDegradation.None), 112);
        double gaussian = LaplacianVariance(Degrade(new SynthFaceDegradation { GaussianBlurSigma = 1.5 }), 112);
        double motion = LaplacianVariance(Degrade(new SynthFaceDegradation { MotionBlurLength = 8, MotionBlurAngle = 30 }), 112);
        double down = LaplacianVariance(Degrade(new SynthFaceDegradation { DownsampleSize = 24 }), 112);
        Assert.IsLessThan(sharp * 0.3, gaussian, $"sharp {sharp:F1} gaussian {gaussian:F1}");
        Assert.IsLessThan(sharp * 0.6, motion, $"sharp {sharp:F1} motion {motion:F1}");
        Assert.IsLessThan(sharp * 0.5, down, $"sharp {sharp:F1} down-up {down:F1}");
        double stronger = LaplacianVariance(Degrade(new SynthFaceDegradation { GaussianBlurSigma = 2.5 }), 112);
        Assert.IsLessThan(gaussian, stronger);
    }

    [TestMethod]
    public void Noise_RaisesLaplacianVariance_WithTheRequestedSigma()
    {
        var clean = Degrade(SynthFaceDegradation.None);
        var noisy = Degrade(new SynthFaceDegradation { NoiseSigma = 10, NoiseSeed = 4 });
        var diff = clean.Zip(noisy, (a, b) => (double)(b - a)).ToArray();
        double sd = Math.Sqrt(diff.Select(d => d * d).Average());
        Assert.AreEqual(10, sd, 1.0, "measured noise standard deviation (clipping lowers it slightly)");
        Assert.IsGreaterThan(LaplacianVariance(clean, 112), LaplacianVariance(noisy, 112));
    }

    [TestMethod]
    public void Jpeg_And_Exposure_ChangeTheImageAsExpected()
    {
        var clean = Degrade(SynthFaceDegradation.None);
        var jpeg = Degrade(new SynthFaceDegradation { JpegQuality = 10 });
        double meanAbs = clean.Zip(jpeg, (a, b) => Math.Abs(a - b)).Average();
        Assert.IsGreaterThan(1.0, meanAbs, "JPEG at quality 10 loses detail");
        Assert.IsLessThan(15.0, meanAbs, "but keeps the picture");
        Assert.AreEqual(clean.Average(v => (double)v), jpeg.Average(v => (double)v), 3.0);
        var dark = Degrade(new SynthFaceDegradation { ExposureGain = 0.5 });
        Assert.AreEqual(clean.Average(v => (double)v) * 0.5, dark.Average(v => (double)v), 1.0);
    }
}

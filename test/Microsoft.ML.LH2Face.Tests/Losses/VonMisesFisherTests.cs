using Microsoft.ML.LH2Face.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Losses;

/// <summary>log C_n and A_n against 50-digit references (mpmath besseli, dps = 50) and finite differences.</summary>
[TestClass]
public sealed class VonMisesFisherTests
{
    // (n, kappa, log C_n(kappa), A_n(kappa)); the first four log C values are METHOD.md's, the rest were
    // computed the same way with mpmath 1.3 at 50 digits.
    private static readonly (int N, double Kappa, double LogC, double A)[] References =
    {
        (512, 0.5, 867.967859019885, double.NaN),
        (512, 32, 866.970038703513, 0.0622586765206573),
        (512, 64, 863.998606111807, 0.123112566242789),
        (512, 100, 858.379265453291, double.NaN),
        (2, 1e-3, -1.8378773164093299, 0.00049999993750001043),
        (2, 1e4, -9996.3137808478416, 0.99994999874987498),
        (3, 7, -6.8919660858249674, 0.85714452020167823),
        (15, 50, -35.057313809741405, 0.86853528280507348),
        (15, 51, -35.927062374588939, 0.87094704202796947),
        (16, 1e-3, -1.3258249375397323, 6.2499999782986114e-5),
        (16, 30, -17.45257935785037, 0.77762509325866718),
        (10, 100, -87.468043863869231, 0.95579517288124742),
        (256, 0.5, 344.33438737368893, 0.0019531176072313763),
        (4096, 1e-3, 11219.226399984423, 2.4414062499998546e-7),
        (4096, 1e4, 5303.916769751525, 0.81598806295869719),
    };

    private static void AssertRelative(double expected, double actual, double tolerance, string what)
        => Assert.AreEqual(expected, actual, Math.Abs(expected) * tolerance, $"{what}: expected {expected:R}, got {actual:R}");

    [TestMethod]
    public void LogNormaliser_Double_MatchesReferencesTo1e5Relative()
    {
        foreach (var (n, kappa, logC, _) in References)
            AssertRelative(logC, VonMisesFisher.LogNormaliser(n, kappa), 1e-5, $"log C_{n}({kappa})");
    }

    [TestMethod]
    public void MeanResultantLength_Double_MatchesReferencesTo1e5Relative()
    {
        foreach (var (n, kappa, _, a) in References.Where(r => !double.IsNaN(r.A)))
            AssertRelative(a, VonMisesFisher.MeanResultantLength(n, kappa), 1e-5, $"A_{n}({kappa})");
    }

    [TestMethod]
    public void TorchOps_MatchReferencesTo1e5Relative_InFloat32AndFloat64()
    {
        foreach (var group in References.GroupBy(r => r.N))
        {
            using var scope = NewDisposeScope();
            var kappas = group.Select(r => r.Kappa).ToArray();
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                var k = tensor(kappas, ScalarType.Float64).to(dtype);
                var logC = VonMisesFisherOps.LogNormaliser(k, group.Key);
                var a = VonMisesFisherOps.MeanResultantLength(k, group.Key);
                Assert.AreEqual(dtype, logC.dtype);
                var logCValues = logC.to(ScalarType.Float64).data<double>().ToArray();
                var aValues = a.to(ScalarType.Float64).data<double>().ToArray();
                int i = 0;
                foreach (var r in group)
                {
                    AssertRelative(r.LogC, logCValues[i], 1e-5, $"{dtype} log C_{r.N}({r.Kappa})");
                    if (!double.IsNaN(r.A))
                        AssertRelative(r.A, aValues[i], 1e-5, $"{dtype} A_{r.N}({r.Kappa})");
                    i++;
                }
            }
        }
    }

    [TestMethod]
    public void LogNormaliserGradient_IsMinusAAndMatchesFiniteDifferences()
    {
        foreach (int n in new[] { 2, 3, 10, 15, 16, 64, 512, 4096 })
        {
            using var scope = NewDisposeScope();
            double[] kappas = { 1e-3, 0.5, 7, 30, 49.9, 50.1, 64, 300, 1e4 };
            var k = tensor(kappas, ScalarType.Float64).requires_grad_(true);
            VonMisesFisherOps.LogNormaliser(k, n).sum().backward();
            var gradient = k.grad!.data<double>().ToArray();
            var a = VonMisesFisherOps.MeanResultantLength(k.detach(), n).data<double>().ToArray();
            for (int i = 0; i < kappas.Length; i++)
            {
                // A step of 1e-4 relative (at least 1e-4) keeps the rounding of log C (up to ~1e4) below 1e-8.
                double h = Math.Max(1e-4 * kappas[i], 1e-4);
                double finite = (VonMisesFisher.LogNormaliser(n, kappas[i] + h) - VonMisesFisher.LogNormaliser(n, kappas[i] - h)) / (2 * h);
                Assert.AreEqual(finite, gradient[i], 1e-6 + 1e-5 * Math.Abs(finite), $"d/dk log C_{n}({kappas[i]}) vs finite difference");
                Assert.AreEqual(-a[i], gradient[i], 1e-7 + 1e-5 * a[i], $"d/dk log C_{n}({kappas[i]}) vs -A_n");
            }
        }
    }

    [TestMethod]
    public void MeanResultantLengthGradient_MatchesFiniteDifferences()
    {
        foreach (int n in new[] { 3, 12, 16, 512 })
        {
            using var scope = NewDisposeScope();
            double[] kappas = { 0.01, 5, 40, 80, 500 };
            var k = tensor(kappas, ScalarType.Float64).requires_grad_(true);
            VonMisesFisherOps.MeanResultantLength(k, n).sum().backward();
            var gradient = k.grad!.data<double>().ToArray();
            for (int i = 0; i < kappas.Length; i++)
            {
                double h = Math.Max(1e-4 * kappas[i], 1e-4);
                double finite = (VonMisesFisher.MeanResultantLength(n, kappas[i] + h) - VonMisesFisher.MeanResultantLength(n, kappas[i] - h)) / (2 * h);
                Assert.AreEqual(finite, gradient[i], 1e-8 + 1e-5 * Math.Abs(finite), $"d/dk A_{n}({kappas[i]})");
            }
        }
    }

    [TestMethod]
    public void TorchOps_WholeRange_AreFiniteMonotoneAndBounded()
    {
        using var scope = NewDisposeScope();
        // 200 kappas log-spaced over [1e-3, 1e4] for every order regime, in float32 as training uses.
        var k = logspace(-3, 4, 200, dtype: ScalarType.Float32).requires_grad_(true);
        foreach (int n in new[] { 2, 3, 5, 14, 15, 16, 17, 128, 512, 1000, 4096 })
        {
            var logC = VonMisesFisherOps.LogNormaliser(k, n);
            var a = VonMisesFisherOps.MeanResultantLength(k, n);
            k.grad?.zero_();
            logC.sum().backward();
            Assert.IsTrue(logC.isfinite().all().item<bool>() && k.grad!.isfinite().all().item<bool>(), $"n = {n}: log C or its gradient is not finite");
            var av = a.to(ScalarType.Float64).data<double>().ToArray();
            Assert.IsTrue(av.All(v => v > 0 && v < 1), $"n = {n}: A_n must lie in (0, 1)");
            for (int i = 1; i < av.Length; i++)
                Assert.IsTrue(av[i] >= av[i - 1] * (1 - 1e-6), $"n = {n}: A_n must increase with kappa (index {i})");
        }
    }

    [TestMethod]
    public void Double_BadArguments_ThrowNamingTheFix()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => VonMisesFisher.LogNormaliser(1, 3));
        StringAssert.Contains(e.Message, "use n >= 2");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => VonMisesFisher.MeanResultantLength(512, 0));
    }
}

using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class PairedBootstrapTests
{
    /// <summary>Scores where genuine pairs lie at g and impostors at i plus a spread, from a fixed LCG.</summary>
    private static (float[] Scores, bool[] Genuine) Pairs(int genuine, int impostors, double shift, int seed)
    {
        var scores = new float[genuine + impostors];
        var labels = new bool[scores.Length];
        uint state = (uint)seed * 2654435761u + 1;
        double Next() { state = state * 1664525u + 1013904223u; return (state >> 8) / (double)(1 << 24); }
        for (int k = 0; k < scores.Length; k++)
        {
            labels[k] = k < genuine;
            scores[k] = (float)((labels[k] ? 0.6 + shift : 0.2) + 0.3 * (Next() - 0.5) + 0.3 * (Next() - 0.5));
        }
        return (scores, labels);
    }

    [TestMethod]
    public void Differences_FullSampleDifference_IsTheMeanOverSeedsOfEachSide()
    {
        var (a1, labels) = Pairs(200, 2000, 0.05, 1);
        var (a2, _) = Pairs(200, 2000, 0.02, 2);
        var (b1, _) = Pairs(200, 2000, 0.0, 3);
        var metrics = new[] { PairedBootstrap.Eer, PairedBootstrap.TarAt(1e-2) };
        var d = PairedBootstrap.Differences(new[] { a1, a2 }, new[] { b1 }, labels, metrics, replicates: 200, seed: 7);
        var ra1 = VerificationMetrics.Evaluate(a1, labels);
        var ra2 = VerificationMetrics.Evaluate(a2, labels);
        var rb = VerificationMetrics.Evaluate(b1, labels);
        Assert.AreEqual((ra1.Eer + ra2.Eer) / 2 - rb.Eer, d[0].Difference, 1e-12);
        double Tar(VerificationResult r) => r.TarAtFar.Single(t => t.TargetFar == 1e-2).Tar;
        Assert.AreEqual((Tar(ra1) + Tar(ra2)) / 2 - Tar(rb), d[1].Difference, 1e-12);
        Assert.IsTrue(d[0].Difference < 0, "the shifted genuine scores separate better: lower EER");
        Assert.IsTrue(d[0].StandardDeviation > 0 && d[0].StandardDeviation < 0.05, $"EER difference sd {d[0].StandardDeviation}");
        Assert.AreEqual(200, d[0].Replicates);
    }

    [TestMethod]
    public void Differences_SameScoresBothSides_DifferenceAndSpreadAreZero()
    {
        var (a, labels) = Pairs(100, 500, 0.0, 4);
        var d = PairedBootstrap.Differences(new[] { a }, new[] { (float[])a.Clone() }, labels, new[] { PairedBootstrap.Eer, PairedBootstrap.TarAt(1e-1) }, 50, 1);
        // Paired: every replicate scores the same drawn pairs on both sides, so each difference is exactly 0.
        Assert.AreEqual(0, d[0].Difference);
        Assert.AreEqual(0, d[0].StandardDeviation);
        Assert.AreEqual(0, d[1].StandardDeviation);
    }

    [TestMethod]
    public void Differences_SpreadShrinksWithMorePairs()
    {
        var (small, smallLabels) = Pairs(100, 1000, 0.05, 5);
        var (smallBase, _) = Pairs(100, 1000, 0.0, 6);
        var (large, largeLabels) = Pairs(1600, 16000, 0.05, 5);
        var (largeBase, _) = Pairs(1600, 16000, 0.0, 6);
        var s = PairedBootstrap.Differences(new[] { small }, new[] { smallBase }, smallLabels, new[] { PairedBootstrap.Eer }, 100, 2)[0];
        var l = PairedBootstrap.Differences(new[] { large }, new[] { largeBase }, largeLabels, new[] { PairedBootstrap.Eer }, 100, 2)[0];
        // 16 times the pairs: about a quarter of the spread (1 / sqrt(16)); allow 0.1 to 0.5.
        double ratio = l.StandardDeviation / s.StandardDeviation;
        Assert.IsTrue(ratio > 0.1 && ratio < 0.5, $"sd ratio {ratio}");
    }

    [TestMethod]
    public void Differences_BadInput_NamesTheProblem()
    {
        var labels = new[] { true, false };
        var e = Assert.ThrowsExactly<ArgumentException>(() => PairedBootstrap.Differences(new[] { new float[3] }, new[] { new float[2] }, labels, new[] { PairedBootstrap.Eer }, 10, 1));
        StringAssert.Contains(e.Message, "one score per pair (2); got 3");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PairedBootstrap.Differences(new[] { new float[2] }, new[] { new float[2] }, labels, new[] { PairedBootstrap.Eer }, 1, 1));
    }
}

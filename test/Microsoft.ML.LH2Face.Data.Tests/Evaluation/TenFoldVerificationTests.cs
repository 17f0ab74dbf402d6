using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class TenFoldVerificationTests
{
    [TestMethod]
    public void EvaluateDistances_RandomPairs_EqualsNaiveInsightfaceProtocol()
    {
        var random = new Random(11);
        int n = 203; // not a multiple of 10: the first three folds hold 21 pairs
        var same = Enumerable.Range(0, n).Select(_ => random.Next(2) == 0).ToArray();
        // Distances on the 0.01 grid (ties with thresholds) plus off-grid ones.
        var distances = same.Select((s, i) => i % 3 == 0
            ? Math.Round((s ? 1.2 : 2.0) + random.NextDouble() - 0.5, 2)
            : (s ? 1.2 : 2.0) + random.NextDouble() * 1.2 - 0.6).ToArray();

        var actual = TenFoldVerification.EvaluateDistances(distances, same);
        var expected = Naive(distances, same, 10, 1e-3);

        CollectionAssert.AreEqual(expected.Accuracies, actual.FoldAccuracies.ToArray());
        CollectionAssert.AreEqual(expected.Thresholds, actual.FoldThresholds.ToArray());
        Assert.AreEqual(expected.Accuracies.Average(), actual.AccuracyMean, 1e-15);
        Assert.AreEqual(expected.ValMean, actual.ValMean, 1e-15);
        Assert.AreEqual(expected.FarMean, actual.FarMean, 1e-15);
        Assert.IsTrue(actual.AccuracyMean is > 0.6 and < 1.0, $"accuracy {actual.AccuracyMean}");
    }

    [TestMethod]
    public void EvaluateDistances_SeparablePairs_PerfectAccuracyAndZeroStd()
    {
        // Same pairs at 0.5, different at 2.5, 20 pairs -> folds of 2; every threshold in (0.5, 2.5] is perfect,
        // the first maximum is 0.51.
        var distances = Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? 0.5 : 2.5).ToArray();
        var same = Enumerable.Range(0, 20).Select(i => i % 2 == 0).ToArray();
        var r = TenFoldVerification.EvaluateDistances(distances, same);
        Assert.AreEqual(1.0, r.AccuracyMean);
        Assert.AreEqual(0.0, r.AccuracyStd);
        Assert.AreEqual(51 * 0.01, r.FoldThresholds[0]);
        // Training FAR is 0 for thresholds <= 2.5 and 1 above: insightface's interpolation lands just above 2.5
        // (2.5 + 1e-3 * 0.001), which accepts every impostor of the held-out fold.
        Assert.AreEqual(1.0, r.ValMean);
        Assert.AreEqual(1.0, r.FarMean);
    }

    [TestMethod]
    public void SquaredDistances_HandValues_NormaliseThenSquaredL2()
    {
        var features = new[] { new[] { 3f, 4f }, new[] { 6f, 8f }, new[] { 1f, 0f }, new[] { 0f, 2f } };
        var d = TenFoldVerification.SquaredDistances(features);
        Assert.AreEqual(0.0, d[0], 1e-7);
        Assert.AreEqual(2.0, d[1], 1e-7);
    }

    [TestMethod]
    public void Evaluate_OddFeatureCount_ThrowsNamingFeatures()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => TenFoldVerification.Evaluate(new[] { new[] { 1f } }, new[] { true }));
        Assert.AreEqual("features", e.ParamName);
    }

    private sealed record NaiveResult(double[] Accuracies, double[] Thresholds, double ValMean, double FarMean);

    /// <summary>insightface verification.py calculate_roc / calculate_val, written out directly.</summary>
    private static NaiveResult Naive(double[] dist, bool[] same, int folds, double farTarget)
    {
        int n = dist.Length;
        var accThresholds = Enumerable.Range(0, 400).Select(k => k * 0.01).ToArray();
        var valThresholds = Enumerable.Range(0, 4000).Select(k => k * 0.001).ToArray();
        var acc = new double[folds];
        var best = new double[folds];
        var val = new double[folds];
        var far = new double[folds];
        int start = 0;
        for (int f = 0; f < folds; f++)
        {
            int size = n / folds + (f < n % folds ? 1 : 0);
            var test = Enumerable.Range(start, size).ToArray();
            var train = Enumerable.Range(0, n).Where(i => i < start || i >= start + size).ToArray();
            start += size;

            double bestAcc = -1;
            foreach (double t in accThresholds)
            {
                double a = Accuracy(t, train);
                if (a > bestAcc) { bestAcc = a; best[f] = t; }
            }
            acc[f] = Accuracy(best[f], test);

            var farTrain = valThresholds.Select(t => ValFar(t, train).Far).ToArray();
            double threshold = 0;
            if (farTrain.Max() >= farTarget)
            {
                // scipy interp1d (linear) on far_train sorted stably: first index at or above the target.
                int hi = Array.FindIndex(farTrain, x => x >= farTarget);
                threshold = hi == 0 ? valThresholds[0]
                    : valThresholds[hi - 1] + (farTarget - farTrain[hi - 1]) / (farTrain[hi] - farTrain[hi - 1]) * (valThresholds[hi] - valThresholds[hi - 1]);
            }
            (val[f], far[f]) = ValFar(threshold, test);
        }
        return new NaiveResult(acc, best, val.Average(), far.Average());

        double Accuracy(double t, int[] rows) => (double)rows.Count(i => (dist[i] < t) == same[i]) / rows.Length;

        (double Val, double Far) ValFar(double t, int[] rows)
        {
            int ta = rows.Count(i => dist[i] < t && same[i]);
            int fa = rows.Count(i => dist[i] < t && !same[i]);
            return ((double)ta / rows.Count(i => same[i]), (double)fa / rows.Count(i => !same[i]));
        }
    }
}

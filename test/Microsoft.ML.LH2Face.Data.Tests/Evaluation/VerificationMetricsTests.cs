using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class VerificationMetricsTests
{
    private const double Tolerance = 1e-12;

    // Descending: G I G I G I with 3 genuine, 3 impostor pairs.
    private static readonly float[] AlternatingScores = { 0.4f, 0.9f, 0.6f, 0.7f, 0.5f, 0.8f };
    private static readonly bool[] AlternatingLabels = { false, true, false, true, true, false };

    [TestMethod]
    public void Compute_AlternatingLabels_OnePointPerScore()
    {
        var roc = RocCurve.Compute(AlternatingScores, AlternatingLabels);
        Assert.AreEqual(7, roc.Count);
        CollectionAssert.AreEqual(new[] { float.PositiveInfinity, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f }, roc.Thresholds.ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 0, 1, 1, 2, 2, 3 }, Enumerable.Range(0, 7).Select(roc.FalseAccepts).ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 1, 2, 2, 3, 3 }, Enumerable.Range(0, 7).Select(roc.TrueAccepts).ToArray());
        Assert.AreEqual(2.0 / 3, roc.FalseAcceptRate(4), Tolerance);
    }

    [TestMethod]
    public void Compute_RepeatedSteps_DropsIntermediatePointsLikeScikitLearn()
    {
        // sklearn.metrics.roc_curve([1, 1, 1, 0], [.9, .8, .7, .1]) -> fpr [0, 0, 0, 1], tpr [0, 1/3, 1, 1].
        float[] scores = { 0.9f, 0.8f, 0.7f, 0.1f };
        bool[] labels = { true, true, true, false };
        var roc = RocCurve.Compute(scores, labels);
        CollectionAssert.AreEqual(new[] { float.PositiveInfinity, 0.9f, 0.7f, 0.1f }, roc.Thresholds.ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 3, 3 }, Enumerable.Range(0, 4).Select(roc.TrueAccepts).ToArray());
        Assert.AreEqual(5, RocCurve.Compute(scores, labels, dropIntermediate: false).Count);
    }

    [TestMethod]
    public void Compute_TiedScores_ShareOnePoint()
    {
        float[] scores = { 0.8f, 0.8f, 0.5f, 0.5f, 0.2f, 0.2f };
        bool[] labels = { true, false, true, true, false, false };
        var roc = RocCurve.Compute(scores, labels);
        CollectionAssert.AreEqual(new[] { float.PositiveInfinity, 0.8f, 0.5f, 0.2f }, roc.Thresholds.ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 1, 3 }, Enumerable.Range(0, 4).Select(roc.FalseAccepts).ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 3, 3 }, Enumerable.Range(0, 4).Select(roc.TrueAccepts).ToArray());
    }

    [TestMethod]
    public void Compute_NegativeAndPositiveZero_AreOneScore()
    {
        var roc = RocCurve.Compute(new[] { -0f, 0f }, new[] { true, false });
        Assert.AreEqual(2, roc.Count);
        Assert.AreEqual(1, roc.FalseAccepts(1));
        Assert.AreEqual(1, roc.TrueAccepts(1));
    }

    [TestMethod]
    public void Evaluate_TiedScores_HandComputedEerTarAndAccuracy()
    {
        float[] scores = { 0.8f, 0.8f, 0.5f, 0.5f, 0.2f, 0.2f };
        bool[] labels = { true, false, true, true, false, false };
        var r = VerificationMetrics.Evaluate(scores, labels, new[] { 0.1, 0.3 });
        // FAR 0.1 is nearest the (0, 0) point; FAR 0.3 is nearest 1/3, where the last (highest-TAR) point is read.
        Assert.AreEqual(0.0, r.TarAtFar[0].Tar, Tolerance);
        Assert.AreEqual(float.PositiveInfinity, r.TarAtFar[0].Threshold);
        Assert.AreEqual(1.0, r.TarAtFar[1].Tar, Tolerance);
        Assert.AreEqual(1.0 / 3, r.TarAtFar[1].Far, Tolerance);
        Assert.AreEqual(0.5f, r.TarAtFar[1].Threshold);
        // The vertical segment FAR = 1/3, FRR 2/3 -> 0 crosses FAR = FRR at 1/3.
        Assert.AreEqual(1.0 / 3, r.Eer, Tolerance);
        Assert.AreEqual(0.5f, r.EerThreshold);
        Assert.AreEqual(5.0 / 6, r.BestAccuracy, Tolerance);
        Assert.AreEqual(0.5f, r.BestThreshold);
    }

    [TestMethod]
    public void Evaluate_Alternating_HandComputedValues()
    {
        var r = VerificationMetrics.Evaluate(AlternatingScores, AlternatingLabels, new[] { 0.3, 0.45 });
        Assert.AreEqual(2.0 / 3, r.TarAtFar[0].Tar, Tolerance);
        Assert.AreEqual(0.7f, r.TarAtFar[0].Threshold);
        Assert.AreEqual(2.0 / 3, r.TarAtFar[1].Tar, Tolerance, "0.45 is nearer 1/3 than 2/3");
        Assert.AreEqual(1.0 / 3, r.Eer, Tolerance);
        Assert.AreEqual(0.7f, r.EerThreshold);
        Assert.AreEqual(4.0 / 6, r.BestAccuracy, Tolerance);
        Assert.AreEqual(0.9f, r.BestThreshold);
        Assert.AreEqual(3, r.GenuineCount);
        Assert.AreEqual(3, r.ImpostorCount);
        Assert.AreEqual(3, r.Histogram.Genuine.Sum());
        Assert.AreEqual(3, r.Histogram.Impostor.Sum());
    }

    [TestMethod]
    public void Evaluate_FarBelowOneOverImpostors_ReadsNearestPointAndFlagsIt()
    {
        var r = VerificationMetrics.Evaluate(AlternatingScores, AlternatingLabels);
        var at1e6 = r.TarAtFar[0];
        Assert.AreEqual(1e-6, at1e6.TargetFar);
        Assert.IsTrue(at1e6.IsBelowResolution);
        Assert.AreEqual(0.0, at1e6.Far);
        Assert.AreEqual(1.0 / 3, at1e6.Tar, Tolerance, "highest TAR at FAR 0: the 0.9 genuine pair");
        Assert.AreEqual(0.9f, at1e6.Threshold);
        Assert.IsTrue(r.TarAtFar.All(t => t.IsBelowResolution), "every standard FAR is below 1/3");
        Assert.AreEqual(1.0 / 3, r.TarAtFar[^1].Tar, Tolerance, "FAR 0.1 is nearer 0 than 1/3");
    }

    [TestMethod]
    public void Evaluate_AllGenuine_ThrowsNamingTheMissingClass()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => VerificationMetrics.Evaluate(new[] { 0.1f, 0.2f }, new[] { true, true }));
        StringAssert.Contains(e.Message, "2 genuine, 0 impostor");
    }

    [TestMethod]
    public void Evaluate_AllImpostor_Throws()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => VerificationMetrics.Evaluate(new[] { 0.1f }, new[] { false }));
        StringAssert.Contains(e.Message, "0 genuine, 1 impostor");
    }

    [TestMethod]
    public void Evaluate_NaNScore_ThrowsNamingIndex()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => VerificationMetrics.Evaluate(new[] { 0.1f, float.NaN }, new[] { true, false }));
        StringAssert.Contains(e.Message, "scores[1]");
    }

    [TestMethod]
    public void SortedKeys_RandomScoresWithTies_MatchesArraySort()
    {
        var random = new Random(7);
        int n = 20_000;
        var scores = Enumerable.Range(0, n).Select(_ => (float)Math.Round(random.NextDouble() * 4 - 2, 2)).ToArray();
        var labels = Enumerable.Range(0, n).Select(_ => random.Next(2) == 0).ToArray();
        var keys = Data.Evaluation.ScoreSort.SortedKeys(scores, labels);
        var expected = scores.Select((s, i) => ((ulong)Data.Evaluation.ScoreSort.SortableBits(s) << 1) | (labels[i] ? 1ul : 0ul)).ToArray();
        Array.Sort(expected);
        CollectionAssert.AreEqual(expected, keys);
        var sortedScores = keys.Select(k => Data.Evaluation.ScoreSort.FromSortableBits((uint)(k >> 1))).ToArray();
        CollectionAssert.AreEqual(scores.Order().ToArray(), sortedScores);
    }
}

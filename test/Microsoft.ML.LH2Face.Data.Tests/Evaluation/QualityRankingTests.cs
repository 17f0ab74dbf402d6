using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class QualityRankingTests
{
    [TestMethod]
    public void Auc_HandCountedPairs_WithATie()
    {
        // Positives 3, 5, 2; negatives 1, 2, 4. Of the 9 (positive, negative) pairs the positive is higher in
        // (3>1, 3>2, 5>1, 5>2, 5>4, 2>1) = 6, tied in (2=2) = 1: AUC = (6 + 0.5) / 9.
        float[] scores = { 3, 1, 5, 2, 2, 4 };
        bool[] positive = { true, false, true, false, true, false };
        Assert.AreEqual(6.5 / 9, QualityRanking.Auc(scores, positive), 1e-12);
    }

    [TestMethod]
    public void Auc_PerfectAndReversedRankings_AreOneAndZero()
    {
        float[] scores = { 10, 9, 8, 1, 2 };
        Assert.AreEqual(1.0, QualityRanking.Auc(scores, new[] { true, true, true, false, false }), 1e-12);
        Assert.AreEqual(0.0, QualityRanking.Auc(scores, new[] { false, false, false, true, true }), 1e-12);
    }

    [TestMethod]
    public void Auc_OneClassOnly_Throws()
        => Assert.ThrowsExactly<ArgumentException>(() => QualityRanking.Auc(new float[] { 1, 2 }, new[] { true, true }));

    [TestMethod]
    public void Spearman_HandComputed_WithTies()
    {
        // x ranks: 1, 2.5, 2.5, 4; y ranks: 2, 1, 4, 3. Pearson of the ranks by hand:
        // means 2.5; deviations x (-1.5, 0, 0, 1.5), y (-0.5, -1.5, 1.5, 0.5);
        // sum xy = 0.75 + 0 + 0 + 0.75 = 1.5; sum xx = 4.5; sum yy = 5 -> 1.5 / sqrt(22.5).
        double[] x = { 1, 5, 5, 9 };
        double[] y = { 20, 10, 40, 30 };
        Assert.AreEqual(1.5 / Math.Sqrt(22.5), QualityRanking.Spearman(x, y), 1e-12);
        Assert.AreEqual(1.0, QualityRanking.Spearman(x, x), 1e-12);
        Assert.AreEqual(-1.0, QualityRanking.Spearman(new double[] { 1, 2, 3 }, new double[] { 9, 4, 1 }), 1e-12);
        Assert.IsTrue(double.IsNaN(QualityRanking.Spearman(new double[] { 1, 1, 1 }, new double[] { 1, 2, 3 })));
    }

    [TestMethod]
    public void AverageRanks_TiesShareTheMeanRank()
        => CollectionAssert.AreEqual(new[] { 3.0, 1.5, 1.5, 4.0 }, QualityRanking.AverageRanks(new[] { 0.5, 0.2, 0.2, 0.9 }));
}

using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class StratifiedVerificationTests
{
    [TestMethod]
    public void Evaluate_TwoStrata_EachEqualsItsSubset()
    {
        float[] scores = { 0.9f, 0.1f, 0.8f, 0.7f, 0.2f, 0.6f, 0.65f };
        bool[] labels = { true, false, true, false, false, true, false };
        string[] strata = { "hard-HQ", "hard-HQ", "LQ", "LQ", "hard-HQ", "LQ", "LQ" };

        var r = StratifiedVerification.Evaluate(scores, labels, strata);

        CollectionAssert.AreEqual(new[] { "LQ", "hard-HQ" }, r.Keys.ToArray(), "ordinal order");
        // hard-HQ: 0.9 G, 0.2 I, 0.1 I -> separable: EER 0, best accuracy 1.
        Assert.AreEqual(0.0, r["hard-HQ"].Eer, 1e-12);
        Assert.AreEqual(1.0, r["hard-HQ"].BestAccuracy, 1e-12);
        // LQ: 0.8 G, 0.7 I, 0.65 I, 0.6 G -> best accuracy 3/4 at 0.8; EER 1/2.
        Assert.AreEqual(0.75, r["LQ"].BestAccuracy, 1e-12);
        Assert.AreEqual(0.8f, r["LQ"].BestThreshold);
        Assert.AreEqual(0.5, r["LQ"].Eer, 1e-12);
        Assert.AreEqual(2, r["LQ"].GenuineCount);
    }

    [TestMethod]
    public void Evaluate_StratumWithoutImpostors_ThrowsNamingStratum()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => StratifiedVerification.Evaluate(
            new[] { 0.9f, 0.1f, 0.5f }, new[] { true, false, true }, new[] { "A", "A", "easy-HQ" }));
        StringAssert.Contains(e.Message, "'easy-HQ'");
    }
}

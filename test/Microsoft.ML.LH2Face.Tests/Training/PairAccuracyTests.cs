using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class PairAccuracyTests
{
    [TestMethod]
    public void BestBalancedAccuracy_HandExample()
    {
        // Pairs: (0,1) genuine 1.0; (0,3) and (1,3) impostor 0.8; (2,3) genuine 0.6; (0,2) and (1,2) impostor 0.
        // Accepting >= 1.0: TPR 1/2, TNR 1 -> 0.75; >= 0.8: 1/2, 1/2 -> 0.5; >= 0.6: 1, 1/2 -> 0.75; >= 0: 1, 0 -> 0.5.
        float[][] embeddings = { new[] { 1f, 0f }, new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 0.8f, 0.6f } };
        Assert.AreEqual(0.75, PairAccuracy.BestBalancedAccuracy(embeddings, new[] { 0, 0, 1, 1 }), 1e-12);
        // Labels that make the 0.8 pairs genuine instead: a threshold separates them perfectly.
        Assert.AreEqual(1.0, PairAccuracy.BestBalancedAccuracy(embeddings, new[] { 0, 0, 1, 0 }), 1e-12);
    }

    [TestMethod]
    public void BestBalancedAccuracy_OneKindOfPairMissing_IsNaN()
    {
        float[][] embeddings = { new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 0.6f, 0.8f } };
        Assert.IsTrue(double.IsNaN(PairAccuracy.BestBalancedAccuracy(embeddings, new[] { 3, 3, 3 })), "no impostor pair");
        Assert.IsTrue(double.IsNaN(PairAccuracy.BestBalancedAccuracy(embeddings, new[] { 1, 2, 3 })), "no genuine pair");
    }
}

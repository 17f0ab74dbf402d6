using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class IjbTemplatesTests
{
    [TestMethod]
    public void Aggregate_TwoTemplates_HandComputedFeaturesAndScores()
    {
        // Template 7: media 10 = {(1,0) x 1, (0,2) x 0.5} -> mean (0.5, 0.5); media 11 = (3,0); sum (3.5, 0.5).
        // Template 3: (0,5) x 2 -> (0,10) -> (0,1).
        var features = new[] { new[] { 1f, 0f }, new[] { 0f, 2f }, new[] { 3f, 0f }, new[] { 0f, 5f } };
        int[] templates = { 7, 7, 7, 3 };
        int[] media = { 10, 10, 11, 20 };
        float[] faceness = { 1f, 0.5f, 1f, 2f };

        var t = IjbTemplates.Aggregate(features, templates, media, faceness);

        CollectionAssert.AreEqual(new[] { 3, 7 }, t.TemplateIds.ToArray());
        double norm = Math.Sqrt(3.5 * 3.5 + 0.5 * 0.5);
        Assert.AreEqual(0f, t.Row(0)[0], 1e-7f);
        Assert.AreEqual(1f, t.Row(0)[1], 1e-7f);
        Assert.AreEqual(3.5 / norm, t.Row(1)[0], 1e-6);
        Assert.AreEqual(0.5 / norm, t.Row(1)[1], 1e-6);

        var scores = IjbTemplates.ScorePairs(t, new[] { 7, 7, 3 }, new[] { 3, 7, 3 });
        Assert.AreEqual(0.5 / norm, scores[0], 1e-6);
        Assert.AreEqual(1.0, scores[1], 1e-6);
        Assert.AreEqual(1.0, scores[2], 1e-6);
    }

    [TestMethod]
    public void ScorePairs_UnknownTemplate_ThrowsNamingIt()
    {
        var t = IjbTemplates.Aggregate(new[] { new[] { 1f, 0f } }, new[] { 1 }, new[] { 1 }, new[] { 1f });
        var e = Assert.ThrowsExactly<KeyNotFoundException>(() => IjbTemplates.ScorePairs(t, new[] { 1 }, new[] { 42 }));
        StringAssert.Contains(e.Message, "42");
    }

    [TestMethod]
    public void Score_ManyRandomPairs_EqualsNaiveDotProducts()
    {
        var random = new Random(3);
        int rows = 50, dim = 37, pairs = 40_000;
        var matrix = Enumerable.Range(0, rows * dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var a = Enumerable.Range(0, pairs).Select(_ => random.Next(rows)).ToArray();
        var b = Enumerable.Range(0, pairs).Select(_ => random.Next(rows)).ToArray();
        var scores = new float[pairs];
        PairScorer.Score(matrix, dim, a, b, scores);
        for (int k = 0; k < pairs; k += 997)
        {
            double expected = 0;
            for (int d = 0; d < dim; d++)
                expected += (double)matrix[a[k] * dim + d] * matrix[b[k] * dim + d];
            Assert.AreEqual(expected, scores[k], 1e-5);
        }
    }
}

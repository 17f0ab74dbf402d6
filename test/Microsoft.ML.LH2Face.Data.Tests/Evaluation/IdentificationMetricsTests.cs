using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Tests.Evaluation;

[TestClass]
public sealed class IdentificationMetricsTests
{
    [TestMethod]
    public void Evaluate_HandExample_RanksAndOpenSetRates()
    {
        var gallery = new[] { new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { -1f, 0f } };
        int[] galleryLabels = { 1, 2, 3 };
        var probes = new[]
        {
            new[] { 0.9f, 0.1f },  // id 1, rank 1, score 0.994
            new[] { 1f, 0.5f },    // id 2, rank 2 (id 1 scores 0.894 > 0.447)
            new[] { 0.6f, 0.8f },  // id 9, non-mated, top score 0.8
            new[] { 0f, -1f },     // id 8, non-mated, top score 0
            new[] { -1f, 0.9f },   // id 3, rank 1, score 1/sqrt(1.81) = 0.743
        };
        int[] probeLabels = { 1, 2, 9, 8, 3 };

        var r = IdentificationMetrics.Evaluate(gallery, galleryLabels, probes, probeLabels, new[] { 0.0, 0.5, 1.0 });

        Assert.AreEqual(3, r.MatedProbeCount);
        Assert.AreEqual(2, r.NonMatedProbeCount);
        Assert.AreEqual(2.0 / 3, r.Rank1, 1e-12);
        Assert.AreEqual(1.0, r.Rank5, 1e-12);
        // FPIR 0: threshold 0.8 (highest non-mated score); only probe 0 (0.994) is above among rank-1 probes.
        Assert.AreEqual(0.8f, r.TpirAtFpir[0].Threshold, 1e-6f);
        Assert.AreEqual(1.0 / 3, r.TpirAtFpir[0].Tpir, 1e-12);
        Assert.AreEqual(0.0, r.TpirAtFpir[0].Fpir);
        Assert.IsTrue(r.TpirAtFpir[0].IsBelowResolution);
        // FPIR 0.5: threshold 0 (second non-mated score); one non-mated probe above; probes 0 and 4 found.
        Assert.AreEqual(0f, r.TpirAtFpir[1].Threshold, 1e-6f);
        Assert.AreEqual(2.0 / 3, r.TpirAtFpir[1].Tpir, 1e-12);
        Assert.AreEqual(0.5, r.TpirAtFpir[1].Fpir);
        Assert.IsFalse(r.TpirAtFpir[1].IsBelowResolution);
        // FPIR 1: no threshold.
        Assert.AreEqual(1.0, r.TpirAtFpir[2].Fpir);
        Assert.AreEqual(2.0 / 3, r.TpirAtFpir[2].Tpir, 1e-12);
    }

    [TestMethod]
    public void GalleryProbeSplit_FirstSampleEnrolled_RestAreProbes()
    {
        int[] labels = { 5, 5, 7, 9, 7, 7 };
        var split = GalleryProbeSplit.Create(labels);
        CollectionAssert.AreEqual(new[] { 0, 2, 3 }, split.Gallery.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 4, 5 }, split.Probes.ToArray());

        // Holding out 2 of 3 identities (floor(0.7 * 3)) leaves one enrolled sample in the gallery.
        var open = GalleryProbeSplit.Create(labels, nonMatedIdentityFraction: 0.7, seed: 1);
        Assert.AreEqual(1, open.Gallery.Count);
        Assert.AreEqual(5, open.Probes.Count);
        int enrolled = labels[open.Gallery[0]];
        Assert.AreEqual(labels.Count(l => l == enrolled) - 1, open.Probes.Count(p => labels[p] == enrolled));
    }

    [TestMethod]
    public void Evaluate_GalleryLabelCountMismatch_ThrowsNamingArgument()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => IdentificationMetrics.Evaluate(
            new[] { new[] { 1f } }, new[] { 1, 2 }, new[] { new[] { 1f } }, new[] { 1 }));
        Assert.AreEqual("galleryLabels", e.ParamName);
    }
}

using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class TrainingTests
{
    [TestMethod]
    public void Fit_SmallGeneratedSet_LossFallsAndHeldOutIdentitiesSeparate()
    {
        var ml = new MLContext(seed: 1);
        var train = TestFaces.ImageData(ml, TestFaces.ImageRows(identities: 8, samples: 12, size: 40, seed: 3));
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(FaceRow.Image);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(FaceRow.Identity))
            .Append(ml.Transforms.LH2Face(options));
        int brokenPauses = Microsoft.ML.LH2Face.Training.CollectorPause.BrokenRegions;
        using var model = (TransformerChain<LH2FaceTransformer>)pipeline.Fit(train);
        Assert.AreEqual(brokenPauses, Microsoft.ML.LH2Face.Training.CollectorPause.BrokenRegions, "every training step ran inside its no-GC region");
        var face = model.LastTransformer;

        var losses = face.TrainingSummary.EpochLosses;
        Assert.AreEqual(6, losses.Count);
        Assert.IsTrue(losses[^1] < 0.7 * losses[0], $"loss should fall: {string.Join(", ", losses)}");

        // Held-out images of the same identities (samples never seen in training).
        var heldOut = TestFaces.ImageData(ml, TestFaces.ImageRows(8, 4, 40, seed: 3, firstSample: 100));
        var scored = model.Transform(heldOut);
        var rows = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).ToList();
        Assert.AreEqual(32, rows.Count);
        double genuine = 0, impostor = 0;
        int g = 0, n = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.AreEqual(32, rows[i].Embedding.Length);
            Assert.AreEqual(1.0, Math.Sqrt(rows[i].Embedding.Sum(v => (double)v * v)), 1e-4, "embeddings are L2-normalised");
            Assert.IsTrue(rows[i].Quality[0] > 0);
            for (int j = i + 1; j < rows.Count; j++)
            {
                double c = TestFaces.Cosine(rows[i].Embedding, rows[j].Embedding);
                if (rows[i].Identity == rows[j].Identity) { genuine += c; g++; } else { impostor += c; n++; }
            }
        }
        genuine /= g;
        impostor /= n;
        Assert.IsTrue(genuine - impostor > 0.3, $"genuine mean cosine {genuine:F3} should exceed impostor {impostor:F3} by 0.3");
    }

    private sealed class Scored
    {
        public string Identity { get; set; } = "";

        public float[] Embedding { get; set; } = Array.Empty<float>();

        public float[] Quality { get; set; } = Array.Empty<float>();
    }
}

using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Losses;

/// <summary>Each head's logits on a 3-sample, 4-class example in 2-D, against the formulas in doubles.</summary>
[TestClass]
public sealed class HeadTests
{
    // Proxies at 0, 90, 180, 270 degrees; samples at 30, 100, 200 degrees with labels 0, 1, 2.
    private static readonly double[] ProxyAngles = { 0, 90, 180, 270 };
    private static readonly double[] SampleAngles = { 30, 100, 200 };
    private static readonly long[] Labels = { 0, 1, 2 };
    private static readonly float[] Norms = { 15, 25, 5 };

    private static double Cos(int i, int j) => Math.Cos((SampleAngles[i] - ProxyAngles[j]) * Math.PI / 180);

    private static float[,] Logits(MarginHead head, bool training = false)
    {
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var w = tensor(ProxyAngles.SelectMany(a => new[] { (float)Math.Cos(a * Math.PI / 180), (float)Math.Sin(a * Math.PI / 180) }).ToArray(), new long[] { 4, 2 });
            head.parameters().Single().copy_(w * 3); // any scale: proxies are normalised on use
        }
        head.train(training);
        var x = tensor(SampleAngles.SelectMany(a => new[] { (float)Math.Cos(a * Math.PI / 180), (float)Math.Sin(a * Math.PI / 180) }).ToArray(), new long[] { 3, 2 });
        var logits = head.forward(x, tensor(Norms, new long[] { 3, 1 }), tensor(Labels));
        var flat = logits.data<float>().ToArray();
        var result = new float[3, 4];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                result[i, j] = flat[i * 4 + j];
        return result;
    }

    private static void AssertLogits(Func<int, int, double> expected, float[,] actual, double tolerance = 1e-4)
    {
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.AreEqual(expected(i, j), actual[i, j], tolerance, $"logit ({i}, {j})");
    }

    private static LH2FaceTrainer.Options HeadOptions(LH2FaceHead head) => new() { Head = head, EmbeddingSize = 2 };

    [TestMethod]
    public void ArcFace_HandExample_MatchesScaledCosThetaPlusMargin()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.ArcFace), 4);
        AssertLogits((i, j) => 64 * (j == Labels[i] ? Math.Cos(Math.Acos(Cos(i, j)) + 0.5) : Cos(i, j)), Logits(head), 2e-3);
    }

    [TestMethod]
    public void CosFace_HandExample_MatchesScaledCosMinusMargin()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.CosFace), 4);
        AssertLogits((i, j) => 64 * (Cos(i, j) - (j == Labels[i] ? 0.35 : 0)), Logits(head));
    }

    [TestMethod]
    public void LH2FaceLiteral_HandExample_UsesClampedKappaAndMarginOf035MeanNorm()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.LH2Face), 4);
        double[] kappa = { 15, 25, 10 }; // 5 is clamped to KappaMin = 10
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? 0.35 * 20 : 0), Logits(head));
    }

    [TestMethod]
    public void LH2FaceLiteral_Training_UpdatesTheMeanNormBeforeUsingIt()
    {
        using var head = (VmfUamHead)HeadFactory.Create(HeadOptions(LH2FaceHead.LH2Face), 4);
        double mu = 0.99 * 20 + 0.01 * (15 + 25 + 5) / 3.0;
        double[] kappa = { 15, 25, 10 };
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? 0.35 * mu : 0), Logits(head, training: true));
        Assert.AreEqual(mu, head.MeanNorm, 1e-5);
        Assert.IsTrue(head.named_buffers().Any(b => b.name == "mean_norm"), "the mean norm is a saved buffer");
    }

    [TestMethod]
    public void LH2FaceQualityScaled_HandExample_ScalesMarginByRelativeNorm()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.MarginFunction = LH2FaceMarginFunction.QualityScaled;
        using var head = HeadFactory.Create(options, 4);
        double[] kappa = { 15, 25, 10 };
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? kappa[i] * 0.35 * Math.Clamp(Norms[i] / 20.0, 0, 2) : 0), Logits(head));
    }

    [TestMethod]
    public void LH2FaceRegulariser_HandExample_IsMagFaceG()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.LH2Face), 4);
        using var scope = NewDisposeScope();
        var term = head.ExtraLosses(tensor(Norms, new long[] { 3, 1 })).Single();
        double[] a = { 15, 25, 10 };
        double expected = 35 * a.Average(v => v / (110.0 * 110.0) + 1 / v);
        Assert.AreEqual("norm_regulariser", term.Name);
        Assert.AreEqual(expected, term.Value.item<float>(), 1e-5);
    }

    [TestMethod]
    public void Split_Features_GivesUnitEmbeddingAndNorm()
    {
        using var scope = NewDisposeScope();
        var (embedding, norm) = FaceNetwork.Split(tensor(new float[] { 3, 4, 0, 5 }, new long[] { 2, 2 }));
        CollectionAssert.AreEqual(new float[] { 0.6f, 0.8f, 0, 1 }, embedding.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 5, 5 }, norm.data<float>().ToArray());
    }
}

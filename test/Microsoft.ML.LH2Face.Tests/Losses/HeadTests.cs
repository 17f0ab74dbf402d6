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

    /// <summary>The head with the settings these hand examples were written for: for LH2Face, METHOD.md's Literal margin with m = 0.35.</summary>
    private static LH2FaceTrainer.Options HeadOptions(LH2FaceHead head) => new() { Head = head, EmbeddingSize = 2, KappaScale = LH2FaceKappaScale.Raw, MarginFunction = LH2FaceMarginFunction.Literal, MarginCoefficient = 0.35f };

    [TestMethod]
    public void ArcFace_HandExample_MatchesScaledCosThetaPlusMargin()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.ArcFace).Settings().Loss.Head, 4);
        AssertLogits((i, j) => 64 * (j == Labels[i] ? Math.Cos(Math.Acos(Cos(i, j)) + 0.5) : Cos(i, j)), Logits(head), 2e-3);
    }

    [TestMethod]
    public void CosFace_HandExample_MatchesScaledCosMinusMargin()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.CosFace).Settings().Loss.Head, 4);
        AssertLogits((i, j) => 64 * (Cos(i, j) - (j == Labels[i] ? 0.35 : 0)), Logits(head));
    }

    [TestMethod]
    public void LH2FaceLiteral_HandExample_UsesClampedKappaAndMarginOf035MeanNorm()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.LH2Face).Settings().Loss.Head, 4);
        double[] kappa = { 15, 25, 10 }; // 5 is clamped to KappaMin = 10
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? 0.35 * 20 : 0), Logits(head));
    }

    [TestMethod]
    public void LH2FaceLiteral_Training_UpdatesTheMeanNormBeforeUsingIt()
    {
        using var head = (VmfUamHead)HeadFactory.Create(HeadOptions(LH2FaceHead.LH2Face).Settings().Loss.Head, 4);
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
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        double[] kappa = { 15, 25, 10 };
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? kappa[i] * 0.35 * Math.Clamp(Norms[i] / 20.0, 0, 2) : 0), Logits(head));
    }

    [TestMethod]
    public void LH2FaceRelativeKappa_HandExample_ScaleIs64TimesNormOverMeanAndMarginIs035Times64()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.KappaScale = LH2FaceKappaScale.Relative;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        // mu_kappa starts at 20 (eval mode: no update): kappa' = 64 * (15, 25, 5) / 20 = 48, 80, 16, all inside [10, 110].
        double[] kappa = { 48, 80, 16 };
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? 0.35 * 64 : 0), Logits(head), 2e-4);
        options.KappaMax = 60;
        using var clamped = HeadFactory.Create(options.Settings().Loss.Head, 4);
        AssertLogits((i, j) => Math.Min(kappa[i], 60) * Cos(i, j) - (j == Labels[i] ? 0.35 * 64 : 0), Logits(clamped), 2e-4);
    }

    [TestMethod]
    public void LH2FaceFixedScale_HandExample_IsCosFaceAt64()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.KappaScale = LH2FaceKappaScale.Fixed;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        AssertLogits((i, j) => 64 * (Cos(i, j) - (j == Labels[i] ? 0.35 : 0)), Logits(head), 2e-4);
    }

    [TestMethod]
    public void LH2FaceSqrtDimensionScale_HandExample_IsTheFixedScaleSqrtD()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.KappaScale = LH2FaceKappaScale.SqrtDimension;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        // d = 2: every sample's logit scale is sqrt(2), whatever its norm; the literal margin is then 0.35 sqrt(2).
        AssertLogits((i, j) => Math.Sqrt(2) * (Cos(i, j) - (j == Labels[i] ? 0.35 : 0)), Logits(head), 2e-5);
    }

    [TestMethod]
    public void LH2FacePresetDefaults_HandExample_AngularMarginAtScaleSqrtD()
    {
        var options = LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2Face);
        options.EmbeddingSize = 2;
        Assert.AreEqual(LH2FaceKappaScale.SqrtDimension, options.KappaScale);
        Assert.AreEqual(LH2FaceMarginFunction.Angular, options.MarginFunction);
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        // target sqrt(2) cos(theta + 0.5), others sqrt(2) cos(theta): ArcFace's form at the scale sqrt(d).
        AssertLogits((i, j) => Math.Sqrt(2) * (j == Labels[i] ? Math.Cos(Math.Acos(Cos(i, j)) + 0.5) : Cos(i, j)), Logits(head), 2e-4);
        // METHOD.md's literal reading keeps kappa = ||z|| as the scale.
        Assert.AreEqual(LH2FaceKappaScale.Raw, LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2FaceLiteral).KappaScale);
    }

    [TestMethod]
    public void LH2FaceQualityAngular_HandExample_AngularMarginScalesWithRelativeNorm()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.MarginFunction = LH2FaceMarginFunction.QualityAngular;
        options.MarginCoefficient = 0.5f;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        double[] kappa = { 15, 25, 10 };
        // m_i = 0.5 * clamp(norm / 20, 0, 2): 0.375, 0.625, 0.125 rad; all theta + m stay below pi here.
        double Target(int i) => kappa[i] * Math.Cos(Math.Acos(Cos(i, (int)Labels[i])) + 0.5 * Math.Clamp(Norms[i] / 20.0, 0, 2));
        AssertLogits((i, j) => j == Labels[i] ? Target(i) : kappa[i] * Cos(i, j), Logits(head), 2e-3);
    }

    [TestMethod]
    public void LH2FaceAngularFixedScale_HandExample_IsArcFace()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.KappaScale = LH2FaceKappaScale.Fixed;
        options.MarginFunction = LH2FaceMarginFunction.Angular;
        options.MarginCoefficient = 0.5f;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        using var arcFace = HeadFactory.Create(HeadOptions(LH2FaceHead.ArcFace).Settings().Loss.Head, 4);
        var expected = Logits(arcFace);
        AssertLogits((i, j) => expected[i, j], Logits(head), 1e-4);
    }

    [TestMethod]
    public void LH2FaceHardNegatives_HandExample_ModulatesNegativesAboveTheMarginTarget()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.KappaScale = LH2FaceKappaScale.Fixed;
        options.MarginFunction = LH2FaceMarginFunction.Angular;
        options.MarginCoefficient = 1.0f;
        options.HardNegativeEmphasis = true;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        // With a 1 rad margin: sample 0 (30 degrees from its class) has target cos(87.3 degrees) = 0.047, below the class at
        // 90 degrees (cos 60 = 0.5); sample 2 has cos(77.3 degrees) = 0.220, below the class at 270 degrees (cos 70 = 0.342).
        // t starts at 0 (eval mode: no update), so those two negatives become cos * (0 + cos); every other logit is unchanged.
        double Threshold(int i) => Math.Cos(Math.Acos(Cos(i, (int)Labels[i])) + 1.0);
        Assert.IsTrue(Cos(0, 1) > Threshold(0) && Cos(2, 3) > Threshold(2), "the example has two hard negatives");
        double Expected(int i, int j)
        {
            double c = Cos(i, j);
            if (j == Labels[i])
                return 64 * Threshold(i);
            return 64 * ((i, j) is (0, 1) or (2, 3) ? c * c : c);
        }
        AssertLogits(Expected, Logits(head), 2e-3);
    }

    [TestMethod]
    public void LH2FaceRegulariser_HandExample_IsMagFaceG()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.LH2Face).Settings().Loss.Head, 4);
        using var scope = NewDisposeScope();
        var term = head.ExtraLosses(tensor(Norms, new long[] { 3, 1 }), zeros(3, 1)).Single();
        double[] a = { 15, 25, 10 };
        double expected = 35 * a.Average(v => v / (110.0 * 110.0) + 1 / v);
        Assert.AreEqual("norm_regulariser", term.Name);
        Assert.AreEqual(expected, term.Value.item<float>(), 1e-5);
    }

    private static double Theta(int i, int j) => Math.Acos(Math.Clamp(Cos(i, j), -1 + 1e-3, 1 - 1e-3));

    [TestMethod]
    public void Softmax_HandExample_IsRawFeatureTimesRawProxy()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.Softmax).Settings().Loss.Head, 4);
        // Proxies have length 3 and z = norm * x: logit = 3 * norm * cos, no margin.
        AssertLogits((i, j) => 3 * Norms[i] * Cos(i, j), Logits(head));
    }

    [TestMethod]
    public void AdaFace_HandExample_MatchesPublishedFormulaWithInitialStatistics()
    {
        using var head = HeadFactory.Create(HeadOptions(LH2FaceHead.AdaFace).Settings().Loss.Head, 4);
        // Eval mode: batch_mean = 20, batch_std = 100; z = clip(h (||z|| - mean) / (std + 1e-3), -1, 1).
        AssertLogits((i, j) =>
        {
            double c = Math.Clamp(Cos(i, j), -1 + 1e-3, 1 - 1e-3);
            if (j != Labels[i])
                return 64 * c;
            double z = Math.Clamp(0.333 * (Norms[i] - 20) / (100 + 1e-3), -1, 1);
            return 64 * (Math.Cos(Math.Clamp(Theta(i, j) - 0.4 * z, 1e-3, Math.PI - 1e-3)) - (0.4 + 0.4 * z));
        }, Logits(head), 2e-3);
    }

    [TestMethod]
    public void AdaFace_Training_UpdatesBatchStatisticsWithTAlphaBeforeUsingThem()
    {
        using var head = (AdaFaceHead)HeadFactory.Create(HeadOptions(LH2FaceHead.AdaFace).Settings().Loss.Head, 4);
        double mean = 0.99 * 20 + 0.01 * 15, std = 0.99 * 100 + 0.01 * 10; // norms 15, 25, 5: mean 15, unbiased std 10
        AssertLogits((i, j) =>
        {
            double c = Math.Clamp(Cos(i, j), -1 + 1e-3, 1 - 1e-3);
            if (j != Labels[i])
                return 64 * c;
            double z = Math.Clamp(0.333 * (Norms[i] - mean) / (std + 1e-3), -1, 1);
            return 64 * (Math.Cos(Math.Clamp(Theta(i, j) - 0.4 * z, 1e-3, Math.PI - 1e-3)) - (0.4 + 0.4 * z));
        }, Logits(head, training: true), 2e-3);
        Assert.AreEqual(mean, head.BatchMean, 1e-4);
        Assert.AreEqual(std, head.BatchStd, 1e-4);
        CollectionAssert.IsSubsetOf(new[] { "batch_mean", "batch_std" }, head.named_buffers().Select(b => b.name).ToArray());
    }

    [TestMethod]
    public void MagFace_HandExample_MatchesPublishedFormulaAndRegulariser()
    {
        using var head = (MagFaceHead)HeadFactory.Create(HeadOptions(LH2FaceHead.MagFace).Settings().Loss.Head, 4);
        double[] a = { 15, 25, 10 }; // clamp(||z||, l_a = 10, u_a = 110)
        double Margin(int i) => (0.8 - 0.45) / (110 - 10) * (a[i] - 10) + 0.45;
        AssertLogits((i, j) => 64 * (j == Labels[i] ? Math.Cos(Theta(i, j) + Margin(i)) : Cos(i, j)), Logits(head), 2e-3);
        using var scope = NewDisposeScope();
        var term = head.ExtraLosses(tensor(Norms, new long[] { 3, 1 }), zeros(3, 1)).Single();
        Assert.AreEqual("magface_g", term.Name);
        Assert.AreEqual(35 * a.Average(v => v / (110.0 * 110.0) + 1 / v), term.Value.item<float>(), 1e-5);
    }

    [TestMethod]
    public void LH2FaceAdaFaceMargin_HandExample_UsesKappaScaleAndCoefficient035()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.MarginFunction = LH2FaceMarginFunction.AdaFace;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        double[] kappa = { 15, 25, 10 };
        AssertLogits((i, j) =>
        {
            if (j != Labels[i])
                return kappa[i] * Cos(i, j);
            double z = Math.Clamp(0.333 * (Norms[i] - 20) / (100 + 1e-3), -1, 1);
            return kappa[i] * (Math.Cos(Math.Clamp(Theta(i, j) - 0.35 * z, 1e-3, Math.PI - 1e-3)) - (0.35 + 0.35 * z));
        }, Logits(head), 2e-3);
    }

    [TestMethod]
    public void LH2FaceDetach_HandExample_SameLogitsNoGradientToNorm()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.NormControl = LH2FaceNormControl.Detach;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        double[] kappa = { 15, 25, 10 };
        AssertLogits((i, j) => kappa[i] * Cos(i, j) - (j == Labels[i] ? 0.35 * 20 : 0), Logits(head));
        using var scope = NewDisposeScope();
        var norms = tensor(new float[] { 15, 25, 30 }, new long[] { 3, 1 }).requires_grad_(true);
        var x = functional_normalize(tensor(new float[] { 1, 0, 0, 1, 1, 1 }, new long[] { 3, 2 }));
        head.forward(x, norms, tensor(Labels)).sum().backward();
        Assert.IsTrue(norms.grad is null || norms.grad.abs().max().item<float>() == 0, "Detach: kappa carries no gradient");
        Assert.AreEqual(0, head.ExtraLosses(norms, zeros(3, 1)).Count, "Detach adds no norm term");
    }

    [TestMethod]
    public void LH2FaceVmfNll_HandExample_IsMinusLogDensityWithDetachedCosine()
    {
        var options = HeadOptions(LH2FaceHead.LH2Face);
        options.NormControl = LH2FaceNormControl.VmfNll;
        options.VmfNllWeight = 0.5f;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 4);
        using var scope = NewDisposeScope();
        double[] targetCos = { 0.9, 0.3, -0.2 };
        var norms = tensor(Norms.Select(v => (double)v).ToArray(), ScalarType.Float64).reshape(3, 1).requires_grad_(true);
        var cos = tensor(targetCos, ScalarType.Float64).reshape(3, 1).requires_grad_(true);
        var term = head.ExtraLosses(norms, cos).Single();
        Assert.AreEqual("vmf_nll", term.Name);
        // n = EmbeddingSize = 2 here: log C_2(k) = -log(2 pi) - log I_0(k).
        double expected = 0.5 * Enumerable.Range(0, 3).Average(i => -(VonMisesFisher.LogNormaliser(2, Norms[i]) + Norms[i] * targetCos[i]));
        Assert.AreEqual(expected, term.Value.item<double>(), 1e-9);
        term.Value.backward();
        var gradient = norms.grad!.data<double>().ToArray();
        for (int i = 0; i < 3; i++)
            Assert.AreEqual(0.5 / 3 * (VonMisesFisher.MeanResultantLength(2, Norms[i]) - targetCos[i]), gradient[i], 1e-9, "d/dkappa = (A_n(kappa) - cos) / B");
        Assert.IsTrue(cos.grad is null, "the cosine is detached in the NLL");
    }

    private static Tensor functional_normalize(Tensor x) => nn.functional.normalize(x, p: 2, dim: 1);

    [TestMethod]
    public void Split_Features_GivesUnitEmbeddingAndNorm()
    {
        using var scope = NewDisposeScope();
        var (embedding, norm) = FaceNetwork.Split(tensor(new float[] { 3, 4, 0, 5 }, new long[] { 2, 2 }));
        CollectionAssert.AreEqual(new float[] { 0.6f, 0.8f, 0, 1 }, embedding.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 5, 5 }, norm.data<float>().ToArray());
    }
}

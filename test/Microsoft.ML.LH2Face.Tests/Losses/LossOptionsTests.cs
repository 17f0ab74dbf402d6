using System.Reflection;
using System.Text.Json;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Onnx;

namespace Microsoft.ML.LH2Face.Tests.Losses;

/// <summary>Presets, validation, the effective configuration in log and metadata, and a short training run with every new switch.</summary>
[TestClass]
public sealed class LossOptionsTests
{
    private const int Size = 32;

    private static Dictionary<string, object?> Fields(LH2FaceTrainer.Options o)
        => typeof(LH2FaceTrainer.Options).GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Where(f => f.FieldType.IsValueType || f.FieldType == typeof(string))
            .ToDictionary(f => f.Name, f => f.GetValue(o));

    [TestMethod]
    public void ApplyPreset_SetsOnlyWhatDiffersFromTheDefaults()
    {
        var defaults = Fields(new LH2FaceTrainer.Options());
        string[] baseline = { "Head", "KappaRankingWeight" };
        var expectedChanges = new Dictionary<LH2FaceLossPreset, string[]>
        {
            [LH2FaceLossPreset.LH2Face] = Array.Empty<string>(),
            [LH2FaceLossPreset.LH2FaceLiteral] = new[] { "KappaScale", "MarginFunction", "MarginCoefficient", "KappaRankingWeight", "ProxyPositiveSampleWeight", "ProxyNegativeSampleWeight", "ProxyProxyWeight" },
            [LH2FaceLossPreset.ArcFace] = baseline,
            [LH2FaceLossPreset.CosFace] = baseline,
            [LH2FaceLossPreset.AdaFace] = baseline,
            [LH2FaceLossPreset.MagFace] = baseline,
            [LH2FaceLossPreset.Softmax] = baseline,
        };
        foreach (var (preset, changed) in expectedChanges)
        {
            var options = LH2FaceTrainer.Options.FromPreset(preset);
            var actual = Fields(options).Where(f => !Equals(f.Value, defaults[f.Key])).Select(f => f.Key).ToArray();
            CollectionAssert.AreEquivalent(changed, actual, preset.ToString());
            Assert.AreEqual(preset == LH2FaceLossPreset.LH2FaceLiteral ? "LH2Face" : preset.ToString(), options.Head.ToString());
        }
        var kept = new LH2FaceTrainer.Options { Epochs = 3, SampleRate = 0.5f }.ApplyPreset(LH2FaceLossPreset.ArcFace);
        Assert.AreEqual(3, kept.Epochs);
        Assert.AreEqual(0.5f, kept.SampleRate, "a preset leaves the other options alone");
        // The LH2Face preset undoes another preset's loss settings.
        var back = LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2FaceLiteral).ApplyPreset(LH2FaceLossPreset.ArcFace).ApplyPreset(LH2FaceLossPreset.LH2Face);
        Assert.IsEmpty(Fields(back).Where(f => !Equals(f.Value, defaults[f.Key])).ToArray());
    }

    [TestMethod]
    public void Presets_UsePublishedDefaults()
    {
        Assert.AreEqual("ArcFace(s=64, m=0.5)", LossConfiguration.DescribeHead(LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.ArcFace).Settings().Loss));
        Assert.AreEqual("CosFace(s=64, m=0.35)", LossConfiguration.DescribeHead(LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.CosFace).Settings().Loss));
        Assert.AreEqual("AdaFace(s=64, m=0.4, h=0.333, t_alpha=0.01)", LossConfiguration.DescribeHead(LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.AdaFace).Settings().Loss));
        Assert.AreEqual("MagFace(s=64, l_a=10, u_a=110, l_m=0.45, u_m=0.8, lambda_g=35)", LossConfiguration.DescribeHead(LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.MagFace).Settings().Loss));
        Assert.AreEqual("LH2Face(margin=Angular, coefficient=0.5, kappa_scale=SqrtDimension(s=22.627417), kappa=[10,110], norm=Regulariser, lambda_g=35)", LossConfiguration.DescribeHead(new LH2FaceTrainer.Options().Settings().Loss));
        Assert.AreEqual("LH2Face(margin=Literal, coefficient=0.35, kappa=[10,110], norm=Regulariser, lambda_g=35)", LossConfiguration.DescribeHead(LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2FaceLiteral).Settings().Loss));
        CollectionAssert.AreEquivalent(new[] { "cross_entropy", "norm_regulariser", "kappa_ranking" }, LossConfiguration.TermWeights(new LH2FaceTrainer.Options().Settings().Loss).Keys.ToArray());
        Assert.AreEqual(1.5f, LossConfiguration.TermWeights(new LH2FaceTrainer.Options().Settings().Loss)["kappa_ranking"]);
        // The ranking's share and margin are part of the recorded configuration (and of a checkpoint's fingerprint).
        using var json = JsonDocument.Parse(LossConfiguration.ToJson(new LH2FaceTrainer.Options().Settings().Loss));
        Assert.AreEqual(0.25f, json.RootElement.GetProperty("kappa_ranking_share").GetSingle());
        Assert.AreEqual(0.75f, json.RootElement.GetProperty("kappa_ranking_margin").GetSingle());
        using var arcFace = JsonDocument.Parse(LossConfiguration.ToJson(LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.ArcFace).Settings().Loss));
        Assert.IsFalse(arcFace.RootElement.TryGetProperty("kappa_ranking_margin", out _));
    }

    [TestMethod]
    public void Metadata_CarriesTheEffectiveLossConfiguration()
    {
        var options = LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2FaceLiteral);
        options.NormControl = LH2FaceNormControl.VmfNll;
        options.VmfDimension = 256;
        options.SampleRate = 0.25f;
        options.ProxyProxyWeight = 0;
        var summary = new LH2FaceTrainingSummary(1, 1, new[] { 1f }, Array.Empty<double>(), null, null, false, TimeSpan.Zero);
        var metadata = new LH2FaceModelDescription(options.Settings(), 4, summary).ToMetadata();
        Assert.AreEqual("LH2Face(margin=Literal, coefficient=0.35, kappa=[10,110], norm=VmfNll, lambda_nll=1, n=256)", metadata[LH2FaceModelMetadata.Head]);
        using var json = JsonDocument.Parse(metadata[LH2FaceModelMetadata.Loss]);
        var terms = json.RootElement.GetProperty("terms").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetSingle());
        CollectionAssert.AreEquivalent(new[] { "cross_entropy", "vmf_nll", "proxy_pps", "proxy_pns" }, terms.Keys.ToArray());
        Assert.AreEqual(0.25f, json.RootElement.GetProperty("sample_rate").GetSingle());
        Assert.AreEqual(32f, json.RootElement.GetProperty("proxy_alpha").GetSingle());
        // 4 classes, SampleRate 0.25: the head keeps 1 row (plus the batch's classes), the automatic proxy sample all of those.
        var sampling = json.RootElement.GetProperty("proxy_sampling");
        Assert.AreEqual("auto", sampling.GetProperty("rule").GetString());
        Assert.AreEqual(4096, sampling.GetProperty("max_classes").GetInt32());
        Assert.AreEqual(1024, sampling.GetProperty("size").GetInt32());
        Assert.AreEqual(4, sampling.GetProperty("classes").GetInt64());
        Assert.AreEqual(1, sampling.GetProperty("rows").GetInt64());
        StringAssert.Contains(sampling.GetProperty("estimate").GetString(), "1 / inclusion probability");
    }

    [TestMethod]
    public void ToJson_ProxySampling_ExactUpToTheThreshold_SampledAboveOrAtAnExplicitRate()
    {
        JsonElement Sampling(LH2FaceTrainer.Options o, long? classes) => JsonDocument.Parse(LossConfiguration.ToJson(o.Settings().Loss, classes)).RootElement.GetProperty("proxy_sampling");
        // The proxy sample is described when a proxy term is on: the literal METHOD.md preset turns all three on.
        LH2FaceTrainer.Options Literal(Action<LH2FaceTrainer.Options>? change = null)
        {
            var o = LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2FaceLiteral);
            change?.Invoke(o);
            return o;
        }
        var defaults = Literal();
        Assert.IsFalse(JsonDocument.Parse(LossConfiguration.ToJson(new LH2FaceTrainer.Options().Settings().Loss, 4096)).RootElement.TryGetProperty("proxy_sampling", out _), "no proxy term on, nothing to describe");
        Assert.AreEqual("exact", Sampling(defaults, 4096).GetProperty("estimate").GetString());
        Assert.AreEqual(4096, Sampling(defaults, 4096).GetProperty("rows").GetInt64());
        Assert.AreEqual(1024, Sampling(defaults, 4097).GetProperty("rows").GetInt64(), "above the threshold, ProxySampleSize rows");
        Assert.AreEqual(1024, Sampling(defaults, 100_000).GetProperty("rows").GetInt64(), "the sample stops growing");
        Assert.AreEqual(1024, Sampling(Literal(o => o.SampleRate = 0.1f), 100_000).GetProperty("rows").GetInt64(), "of the 10 000 Partial FC keeps");
        Assert.AreEqual(1000, Sampling(Literal(o => o.SampleRate = 0.1f), 10_000).GetProperty("rows").GetInt64(), "the 1000 Partial FC keeps, all of them");
        Assert.AreNotEqual("exact", Sampling(defaults, 100_000).GetProperty("estimate").GetString());
        Assert.IsFalse(Sampling(defaults, null).TryGetProperty("rows", out _), "without the class count only the rule");
        var rate = Literal(o => o.ProxySampleRate = 0.1f);
        Assert.AreEqual("rate", Sampling(rate, 10_000).GetProperty("rule").GetString());
        Assert.AreEqual(1000, Sampling(rate, 10_000).GetProperty("rows").GetInt64());
        Assert.AreEqual(1, Sampling(Literal(o => o.ProxySampleRate = 1), 10_000).GetProperty("rate").GetSingle());
        Assert.AreEqual(10_000, Sampling(Literal(o => o.ProxySampleRate = 1), 10_000).GetProperty("rows").GetInt64());
    }

    [TestMethod]
    public void CheckOptions_BadLossOptions_ThrowNamingTheOptionAndFix()
    {
        var cases = new (Action<LH2FaceTrainer.Options> Set, string Option, string Fix)[]
        {
            (o => o.SampleRate = 0, "SampleRate", "0 < rate <= 1"),
            (o => o.SampleRate = 1.5f, "SampleRate", "0 < rate <= 1"),
            (o => o.ProxySampleRate = -0.1f, "ProxySampleRate", "use 0 (automatic: every proxy up to ProxySampleMaxClasses classes"),
            (o => o.ProxySampleRate = 1.5f, "ProxySampleRate", "or 0 < rate <= 1"),
            (o => { o.ProxyNegativeSampleWeight = 1; o.ProxySampleSize = 128; }, "ProxySampleSize", "is 128 with BatchSize 128; use more than the batch size"),
            (o => { o.ProxyProxyWeight = 1; o.ProxySampleMaxClasses = 1000; }, "ProxySampleMaxClasses", "is 1000 with ProxySampleSize 1024; use at least ProxySampleSize"),
            (o => o.ProxyAlpha = 100, "ProxyAlpha", "0 < alpha <= 64"),
            (o => o.ProxyNegativeSampleWeight = -1, "ProxyNegativeSampleWeight", "0 (off) or a positive weight"),
            (o => o.ProxyLearningRateMultiplier = 0, "ProxyLearningRateMultiplier", "positive factor"),
            (o => o.VmfDimension = 1, "VmfDimension", "0 (the embedding size) or n >= 2"),
            (o => o.MarginFunction = (LH2FaceMarginFunction)9, "MarginFunction", "use one of Literal, QualityScaled, AdaFace"),
            (o => o.NormControl = (LH2FaceNormControl)9, "NormControl", "use one of Regulariser, Detach, VmfNll"),
            (o => o.MagFaceMarginMax = 0.1f, "MagFaceMarginMax", "0 <= min <= max < pi"),
            (o => o.AdaFaceMargin = -0.1f, "AdaFaceMargin", "0.4 in AdaFace"),
        };
        foreach (var (set, option, fix) in cases)
        {
            var options = new LH2FaceTrainer.Options();
            set(options);
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => InputValidation.CheckOptions(options), option);
            Assert.AreEqual(option, e.ParamName);
            StringAssert.Contains(e.Message, $"LH2FaceTrainer.Options.{option}");
            StringAssert.Contains(e.Message, fix);
        }
    }

    [TestMethod]
    public void Fit_VmfNllSampledProxiesWithOwnLearningRate_ReportsEveryTermAndLogsTheConfiguration()
    {
        var ml = new MLContext(seed: 2);
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Source == "LH2Face" && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (messages) messages.Add(e.Message); };
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(6, 4, Size, 21), Size);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw).Transform(raw);
        var options = TestFaces.QuickOptions(epochs: 2, batchSize: 8);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.NormControl = LH2FaceNormControl.VmfNll;
        options.MarginFunction = LH2FaceMarginFunction.AdaFace;
        options.KappaRankingWeight = 0;
        options.ProxyPositiveSampleWeight = options.ProxyNegativeSampleWeight = options.ProxyProxyWeight = 1;
        options.SampleRate = 0.5f;
        options.ProxyLearningRateMultiplier = 10;
        var recorder = new ProgressRecorder();
        options.Progress = recorder;
        using (ml.Transforms.LH2Face(options).Fit(data)) { }
        Assert.AreEqual(6, recorder.Reports.Count);
        foreach (var report in recorder.Reports)
        {
            CollectionAssert.AreEqual(new[] { "cross_entropy", "vmf_nll", "proxy_pps", "proxy_pns", "proxy_pp" }, report.LossTerms.Keys.ToArray());
            Assert.AreEqual(report.LossTerms.Values.Sum(), report.Loss, 1e-3);
            Assert.IsTrue(report.MeanMargin.HasValue && float.IsFinite(report.MeanMargin.Value));
        }
        Assert.IsTrue(messages.Any(m => m.Contains("Loss: {\"head\":\"LH2Face(margin=AdaFace", StringComparison.Ordinal) && m.Contains("\"proxy_lr_multiplier\":10", StringComparison.Ordinal)), string.Join("\n", messages));
        Assert.IsTrue(messages.Any(m => m.Contains("Epoch 2: loss", StringComparison.Ordinal) && m.Contains("vmf_nll", StringComparison.Ordinal) && m.Contains("kappa", StringComparison.Ordinal) && m.Contains("margin", StringComparison.Ordinal)), string.Join("\n", messages));
    }
}

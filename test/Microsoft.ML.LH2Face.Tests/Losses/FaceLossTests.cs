using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Losses;

/// <summary>The assembled loss: cancellation of log C_n, gradients, Partial-FC sampling, term bookkeeping and the head buffers.</summary>
[TestClass]
public sealed class FaceLossTests
{
    [TestMethod]
    public void LogNormaliser_PerSampleKappa_CancelsInSoftmax_PerClassKappa_DoesNot()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(3);
        var cos = rand(3, 4, ScalarType.Float64) * 2 - 1;
        var labels = tensor(new long[] { 0, 3, 1 });

        var perSample = tensor(new double[] { 12, 40, 75 }, ScalarType.Float64).reshape(3, 1);
        var withoutC = nn.functional.cross_entropy(perSample * cos, labels).item<double>();
        var withC = nn.functional.cross_entropy(perSample * cos + VonMisesFisherOps.LogNormaliser(perSample, 512), labels).item<double>();
        Assert.AreEqual(withoutC, withC, 1e-9, "per-sample kappa: log C_n(kappa_i) is one constant per row and cancels");

        var perClass = tensor(new double[] { 12, 40, 75, 20 }, ScalarType.Float64).reshape(1, 4);
        var withoutClassC = nn.functional.cross_entropy(perClass * cos, labels).item<double>();
        var withClassC = nn.functional.cross_entropy(perClass * cos + VonMisesFisherOps.LogNormaliser(perClass, 512), labels).item<double>();
        Assert.IsTrue(Math.Abs(withoutClassC - withClassC) > 1, $"per-class kappa: log C_n(kappa_j) changes the softmax ({withoutClassC} vs {withClassC})");
    }

    private static LH2FaceTrainer.Options Options(LH2FaceHead head, Action<LH2FaceTrainer.Options>? change = null)
    {
        // The literal METHOD.md settings (Literal margin 0.35 mu_kappa, the three proxy terms at weight 1) these tests were written for.
        var o = LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2FaceLiteral);
        o.Head = head;
        o.EmbeddingSize = 3;
        change?.Invoke(o);
        return o;
    }

    public static IEnumerable<object[]> GradientCases() => new[]
    {
        new object[] { LH2FaceHead.LH2Face, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser },
        new object[] { LH2FaceHead.LH2Face, LH2FaceMarginFunction.QualityScaled, LH2FaceNormControl.VmfNll },
        new object[] { LH2FaceHead.LH2Face, LH2FaceMarginFunction.AdaFace, LH2FaceNormControl.Regulariser },
        new object[] { LH2FaceHead.ArcFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser },
        new object[] { LH2FaceHead.CosFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser },
        new object[] { LH2FaceHead.Softmax, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser },
        new object[] { LH2FaceHead.AdaFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser },
        new object[] { LH2FaceHead.MagFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser },
    };

    [TestMethod]
    [DynamicData(nameof(GradientCases))]
    public void Compute_Gradients_MatchFiniteDifferences(LH2FaceHead head, LH2FaceMarginFunction margin, LH2FaceNormControl norm)
    {
        var options = Options(head, o => { o.MarginFunction = margin; o.NormControl = norm; o.Scale = 8; });
        using var module = HeadFactory.Create(options.Settings().Loss.Head, 5);
        module.to(ScalarType.Float64);
        module.eval(); // running statistics stay put between evaluations
        var loss = new FaceLoss(options.Settings().Loss);
        // VmfNll detaches the cosine (it calibrates kappa only), so the proxies' gradient is that of the loss without it.
        var withoutNll = norm == LH2FaceNormControl.VmfNll ? Options(head, o => { o.MarginFunction = margin; o.NormControl = norm; o.Scale = 8; o.VmfNllWeight = 0; }) : null;
        using var proxyModule = withoutNll is null ? null : HeadFactory.Create(withoutNll.Settings().Loss.Head, 5);
        using var scope = NewDisposeScope();
        random.manual_seed(11);
        var z = (randn(4, 3, ScalarType.Float64) * 20).requires_grad_(true);
        var labels = tensor(new long[] { 0, 2, 2, 4 });
        double Evaluate(MarginHead h, Tensor features)
        {
            using var inner = NewDisposeScope();
            var (x, n) = FaceNetwork.Split(features);
            return loss.Compute(h, x, n, labels).Total.item<double>();
        }
        {
            var (x, n) = FaceNetwork.Split(z);
            loss.Compute(module, x, n, labels).Total.backward();
        }
        var analytic = z.grad!.detach().clone();
        var proxyAnalytic = module.Proxies.grad!.data<double>().ToArray();
        var values = z.detach().clone();

        // Directions: every coordinate, except where a path is detached on purpose. AdaFace's norm scaler is detached
        // (AdaFace does), so move along the sphere (norm fixed to first order); VmfNll detaches the cosine, so move radially.
        bool adaFaceScaler = head == LH2FaceHead.AdaFace || margin == LH2FaceMarginFunction.AdaFace;
        var directions = new List<Tensor>();
        for (int i = 0; i < 4; i++)
        {
            var zi = values[i];
            if (norm == LH2FaceNormControl.VmfNll)
            {
                directions.Add(zeros_like(values).index_put_(zi / zi.norm(), TensorIndex.Single(i)));
                continue;
            }
            for (int k = 0; k < 3; k++)
            {
                var e = zeros(3, ScalarType.Float64);
                e[k] = 1;
                if (adaFaceScaler)
                    e = e - zi * (zi.dot(e) / zi.dot(zi));
                directions.Add(zeros_like(values).index_put_(e, TensorIndex.Single(i)));
            }
        }
        foreach (var v in directions)
        {
            const double h = 1e-6;
            double finite = (Evaluate(module, values + h * v) - Evaluate(module, values - h * v)) / (2 * h);
            double directional = (analytic * v).sum().item<double>();
            Assert.AreEqual(finite, directional, 1e-5 + 1e-4 * Math.Abs(finite), $"{head}/{margin}/{norm}: directional derivative along {string.Join(",", v.data<double>().ToArray().Select(a => a.ToString("F2")))}");
        }

        var target = proxyModule ?? module;
        if (proxyModule is not null)
        {
            proxyModule.to(ScalarType.Float64);
            proxyModule.eval();
            using (no_grad())
                proxyModule.Proxies.copy_(module.Proxies);
            loss = new FaceLoss(withoutNll!.Settings().Loss);
        }
        using (no_grad())
        {
            var proxies = target.Proxies;
            var original = proxies.detach().clone();
            foreach (int i in new[] { 0, 4, 7, 14 })
            {
                const double h = 1e-7;
                proxies.view(-1)[i] += h;
                double up = Evaluate(target, values);
                proxies.copy_(original);
                proxies.view(-1)[i] -= h;
                double down = Evaluate(target, values);
                proxies.copy_(original);
                double finite = (up - down) / (2 * h);
                Assert.AreEqual(finite, proxyAnalytic[i], 1e-4 + 1e-4 * Math.Abs(finite), $"{head}: d loss / d W[{i}]");
            }
        }
    }

    [TestMethod]
    [DataRow(LH2FaceLossPreset.ArcFace)]
    [DataRow(LH2FaceLossPreset.CosFace)]
    [DataRow(LH2FaceLossPreset.AdaFace)]
    [DataRow(LH2FaceLossPreset.MagFace)]
    [DataRow(LH2FaceLossPreset.Softmax)]
    [DataRow(LH2FaceLossPreset.LH2Face)]
    [DataRow(LH2FaceLossPreset.LH2FaceLiteral)]
    public void Compute_InAStepScope_LeavesNoTensorAliveAfterIt(LH2FaceLossPreset preset)
    {
        // A single-term loss (ArcFace, CosFace, ...) has total == its term: moved out twice, it escaped the step's scope and
        // kept the step's graph alive until a finalizer ran.
        var options = LH2FaceTrainer.Options.FromPreset(preset);
        options.EmbeddingSize = 3;
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 6);
        head.train();
        var loss = new FaceLoss(options.Settings().Loss);
        random.manual_seed(2);
        using var z = randn(8, 3) * 20;
        using var labels = tensor(new long[] { 0, 1, 1, 2, 3, 3, 5, 0 });
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (NewDisposeScope()) // the step's scope, the outermost as in the trainer
        {
            var (x, n) = FaceNetwork.Split(z.requires_grad_(true));
            var output = loss.Compute(head, x, n, labels);
            output.Total.backward();
            Assert.IsTrue(float.IsFinite(output.Total.item<float>()));
        }
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, $"{preset}: tensors left alive after the step's scope closed");
    }

    [TestMethod]
    public void Compute_TermsSumToTotal_AndFollowTheWeights()
    {
        var options = Options(LH2FaceHead.LH2Face, o => { o.ProxyNegativeSampleWeight = 0.5f; o.ProxyProxyWeight = 0; });
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 6);
        head.eval();
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        var (x, n) = FaceNetwork.Split(randn(8, 3) * 20);
        var labels = tensor(new long[] { 0, 1, 1, 2, 3, 3, 5, 0 });
        var output = new FaceLoss(options.Settings().Loss).Compute(head, x, n, labels);
        CollectionAssert.AreEqual(new[] { "cross_entropy", "norm_regulariser", "proxy_pps", "proxy_pns" }, output.Terms.Select(t => t.Name).ToArray());
        Assert.AreEqual(output.Terms.Sum(t => t.Value.item<float>()), output.Total.item<float>(), 1e-4);
        var cos = MarginHead.Cosines(x, nn.functional.normalize(head.Proxies, p: 2, dim: 1));
        Assert.AreEqual(0.5 * ProxyLosses.NegativeSample(cos, labels, 32, 0.1).item<float>(), output.Terms[3].Value.item<float>(), 1e-5);
        Assert.AreEqual(0.35 * 20, output.MeanMargin!.item<float>(), 1e-4, "Literal margin in logit units: 0.35 mu_kappa");
    }

    [TestMethod]
    public void Sample_KeepsEveryPositiveClassAndRemapsLabels()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(4);
        var labels = randint(0, 1000, new long[] { 128 }, ScalarType.Int64);
        var positives = labels.data<long>().ToArray().Distinct().ToHashSet();
        var (rows, mapped) = PartialFcSampler.Sample(labels, 1000, 0.2);
        var rowValues = rows!.data<long>().ToArray();
        Assert.AreEqual(200, rowValues.Length, "ceil(0.2 x 1000) rows");
        Assert.AreEqual(rowValues.Length, rowValues.Distinct().Count(), "no row twice");
        CollectionAssert.AreEqual(rowValues.Order().ToArray(), rowValues, "rows ascending");
        Assert.IsTrue(positives.IsSubsetOf(rowValues), "every class of the batch is sampled");
        var original = labels.data<long>().ToArray();
        var remapped = mapped.data<long>().ToArray();
        for (int i = 0; i < original.Length; i++)
            Assert.AreEqual(original[i], rowValues[remapped[i]], "mapped label indexes its own proxy row");

        // More distinct classes than the rate allows: all of them, nothing else.
        var (fewRows, _) = PartialFcSampler.Sample(labels, 1000, 0.01);
        CollectionAssert.AreEquivalent(positives.ToArray(), fewRows!.data<long>().ToArray());
        Assert.IsNull(PartialFcSampler.Sample(labels, 1000, 1.0).Rows, "rate 1 uses every class");
    }

    [TestMethod]
    public void Compute_WithSampling_EqualsTheLossOverTheSampledProxiesOnly()
    {
        var options = Options(LH2FaceHead.ArcFace, o => { o.SampleRate = 0.5f; o.ProxyProxyWeight = 0; });
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 10);
        using var scope = NewDisposeScope();
        random.manual_seed(8);
        var (x, n) = FaceNetwork.Split(randn(4, 3));
        var labels = tensor(new long[] { 1, 7, 7, 3 });
        random.manual_seed(99);
        var sampled = new FaceLoss(options.Settings().Loss).Compute(head, x, n, labels);
        random.manual_seed(99);
        var (rows, mapped) = PartialFcSampler.Sample(labels, 10, 0.5);
        var w = nn.functional.normalize(head.Proxies.index_select(0, rows!), p: 2, dim: 1);
        var cos = MarginHead.Cosines(x, w);
        var expected = nn.functional.cross_entropy(head.Logits(cos, x, n, mapped, w), mapped);
        Assert.AreEqual(expected.item<float>(), sampled.Terms[0].Value.item<float>(), 1e-5);
        sampled.Total.backward();
        var gradRows = head.Proxies.grad!.abs().sum(1, keepdim: false).data<float>().ToArray();
        var kept = rows!.data<long>().ToArray();
        for (int c = 0; c < 10; c++)
            Assert.AreEqual(kept.Contains(c), gradRows[c] > 0, $"only sampled proxies get a gradient (class {c})");
    }

    [TestMethod]
    public void Compute_WithProxySampleRate_ProxyTermsUseTheSubSampleAndTheHeadAllClasses()
    {
        var options = Options(LH2FaceHead.CosFace, o => { o.ProxySampleRate = 0.3f; o.ProxyPositiveSampleWeight = 0; });
        using var head = HeadFactory.Create(options.Settings().Loss.Head, 20);
        using var scope = NewDisposeScope();
        random.manual_seed(6);
        var (x, n) = FaceNetwork.Split(randn(5, 3));
        var labels = tensor(new long[] { 2, 9, 9, 15, 0 });
        random.manual_seed(42);
        var output = new FaceLoss(options.Settings().Loss).Compute(head, x, n, labels);
        random.manual_seed(42);
        var (rows, mapped) = PartialFcSampler.Sample(labels, 20, 0.3f);
        Assert.AreEqual(6, rows!.shape[0], "ceil(0.3 x 20), also when 0.3 comes as a float");

        // The 4 batch classes weigh 1; the 2 others stand for the 16 classes outside the batch: 1 / (2 / 16) = 8 each.
        var kept = rows.data<long>().ToArray();
        var weights = tensor(kept.Select(k => new long[] { 2, 9, 15, 0 }.Contains(k) ? 1f : 8f).ToArray());
        CollectionAssert.AreEqual(weights.data<float>().ToArray(), ProxySampling.InverseInclusionWeights(mapped, 6, 20, ScalarType.Float32)!.data<float>().ToArray());

        var inverse = MarginHead.InverseNorms(head.Proxies);
        var cos = MarginHead.Cosines(x, head.Proxies, inverse);
        Assert.AreEqual(nn.functional.cross_entropy(head.forward(x, n, labels), labels).item<float>(), output.Terms[0].Value.item<float>(), 1e-5, "the head sees every class");
        Assert.AreEqual(ProxyLosses.NegativeSample(cos.index_select(1, rows), mapped, 32, 0.1, weights).item<float>(), output.Terms[1].Value.item<float>(), 1e-5, "L_pns over the sub-sample, weighted");
        var sub = head.Proxies.index_select(0, rows);
        Assert.AreEqual(ProxyLosses.ProxyProxy(sub, MarginHead.InverseNorms(sub), mapped, 32, 0.1, weights).item<float>(), output.Terms[2].Value.item<float>(), 1e-5, "L_pp over the sub-sample, weighted");
        Assert.AreNotEqual(ProxyLosses.NegativeSample(cos.index_select(1, rows), mapped, 32, 0.1).item<float>(), output.Terms[1].Value.item<float>(), 1e-3, "the weights matter");
    }

    [TestMethod]
    public void Compute_AutomaticProxySample_ExactUpToTheThreshold_SampledAbove()
    {
        var options = Options(LH2FaceHead.CosFace, o => { o.ProxyPositiveSampleWeight = 0; o.ProxySampleMaxClasses = 12; o.ProxySampleSize = 10; o.BatchSize = 5; });
        Assert.AreEqual(0f, options.ProxySampleRate, "automatic is the default");
        using var scope = NewDisposeScope();
        random.manual_seed(6);
        var (x, n) = FaceNetwork.Split(randn(5, 3));
        var labels = tensor(new long[] { 2, 9, 9, 11, 0 });
        var loss = new FaceLoss(options.Settings().Loss);
        using (var small = HeadFactory.Create(options.Settings().Loss.Head, 12))
        {
            var cos = MarginHead.Cosines(x, small.Proxies, MarginHead.InverseNorms(small.Proxies));
            var output = loss.Compute(small, x, n, labels);
            Assert.AreEqual(ProxyLosses.NegativeSample(cos, labels, 32, 0.1).item<float>(), output.Terms[1].Value.item<float>(), 1e-6, "12 classes: every proxy");
            Assert.AreEqual(ProxyLosses.ProxyProxy(small.Proxies, MarginHead.InverseNorms(small.Proxies), labels, 32, 0.1).item<float>(), output.Terms[2].Value.item<float>(), 1e-6);
        }
        using var large = HeadFactory.Create(options.Settings().Loss.Head, 50);
        random.manual_seed(3);
        var sampled = loss.Compute(large, x, n, labels);
        random.manual_seed(3);
        var (rows, mapped) = PartialFcSampler.SampleRows(labels, 50, 10);
        Assert.AreEqual(10, rows!.shape[0], "50 classes: ProxySampleSize = 10 rows, the 4 batch classes and 6 others");
        var weights = ProxySampling.InverseInclusionWeights(mapped, 10, 50, ScalarType.Float32)!;
        Assert.AreEqual(4 + 6 * (46.0 / 6), weights.sum().item<float>(), 1e-4, "the weights add up to the class count");
        var cosAll = MarginHead.Cosines(x, large.Proxies, MarginHead.InverseNorms(large.Proxies));
        Assert.AreEqual(ProxyLosses.NegativeSample(cosAll.index_select(1, rows), mapped, 32, 0.1, weights).item<float>(), sampled.Terms[1].Value.item<float>(), 1e-5);
    }

    [TestMethod]
    public void Compute_AutomaticProxySample_AveragedOverDraws_EstimatesTheFullProxyLosses()
    {
        // A realistic regime: 512-d, 3000 identities, the automatic sample capped at 600 rows (batch classes plus 592 others),
        // 300 draws of the sample for one fixed batch. Tolerances: L_pns is unbiased, so its draw average lies within 4 standard
        // errors of the full value (the CLT; a false failure about once in 16 000 seeds, and the seed is fixed). L_pp is the log
        // of an unbiased sum, biased low by about Var(S^) / (2 (1 + S)^2) (second-order delta method, Jensen): the test allows
        // 4 standard errors plus twice that bias, computed from the exact variance of sampling without replacement.
        const int classes = 3000, dim = 512, maxRows = 600, draws = 300;
        const double alpha = 32, delta = 0.1;
        var options = Options(LH2FaceHead.CosFace, o => { o.EmbeddingSize = dim; o.ProxyPositiveSampleWeight = 0; o.ProxySampleMaxClasses = 2000; o.ProxySampleSize = maxRows; o.BatchSize = 16; });
        using var head = HeadFactory.Create(options.Settings().Loss.Head, classes);
        head.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        random.manual_seed(21);
        var labels = tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 8 * 97)).ToArray());
        var proxies = head.Proxies.detach();
        var inverse = MarginHead.InverseNorms(proxies);
        // Samples near their class proxy, as in training.
        var x = nn.functional.normalize(proxies.index_select(0, labels) * inverse.index_select(0, labels).unsqueeze(1) + 0.05 * randn(16, dim, ScalarType.Float64), p: 2, dim: 1);
        var n = full(16, 1, 30.0, ScalarType.Float64);
        var cos = MarginHead.Cosines(x, proxies, inverse);
        double fullPns = ProxyLosses.NegativeSample(cos, labels, alpha, delta).item<double>();
        double fullPp = ProxyLosses.ProxyProxy(proxies, inverse, labels, alpha, delta).item<double>();

        var loss = new FaceLoss(options.Settings().Loss);
        var pns = new double[draws];
        var pp = new double[draws];
        using (no_grad())
        {
            for (int i = 0; i < draws; i++)
            {
                using var step = NewDisposeScope();
                var output = loss.Compute(head, x, n, labels);
                pns[i] = output.Terms[1].Value.item<double>();
                pp[i] = output.Terms[2].Value.item<double>();
            }
        }
        static (double Mean, double StandardError) Summary(double[] v)
        {
            double mean = v.Average();
            return (mean, Math.Sqrt(v.Sum(a => (a - mean) * (a - mean)) / (v.Length - 1) / v.Length));
        }

        // Delta-method bias of L_pp: per batch proxy p, Var(S^) = N^2 (1 - k/N) s^2 / k for k of the N others, s^2 their variance.
        var batch = labels.unique().Item1;
        var batchCos = MarginHead.Cosines(proxies.index_select(0, batch) * inverse.index_select(0, batch).unsqueeze(1), proxies, inverse);
        var terms = (alpha * (batchCos + delta)).exp();
        var isBatch = zeros(classes, ScalarType.Bool).index_fill(0, batch, true);
        long batchCount = batch.shape[0], others = classes - batchCount, k = maxRows - batchCount;
        double bias = 0;
        for (int p = 0; p < batchCount; p++)
        {
            var outside = terms[p].masked_select(isBatch.logical_not());
            double s2 = outside.var().item<double>();
            double total = terms[p].sum().item<double>() - terms[p][batch[p]].item<double>();
            bias += (double)others * others * (1 - (double)k / others) * s2 / k / (2 * (1 + total) * (1 + total)) / batchCount;
        }

        var (meanPns, sePns) = Summary(pns);
        var (meanPp, sePp) = Summary(pp);
        Assert.AreEqual(fullPns, meanPns, 4 * sePns, $"L_pns: full {fullPns}, draws {meanPns} +- {sePns}");
        Assert.AreEqual(fullPp, meanPp, 4 * sePp + 2 * bias, $"L_pp: full {fullPp}, draws {meanPp} +- {sePp}, delta-method bias {bias}");
        Assert.IsTrue(sePns > 0 && sePp > 0, "the draws differ");
    }

    [TestMethod]
    public void RunningStatistics_SurviveSaveAndLoadWithTheNetwork()
    {
        var options = new LH2FaceTrainer.Options { Backbone = LH2FaceBackbone.Compact, InputSize = 32, EmbeddingSize = 8, MarginFunction = LH2FaceMarginFunction.AdaFace };
        var file = Path.Combine(Path.GetTempPath(), $"lh2face-head-{Guid.NewGuid():N}.bin");
        try
        {
            float mean, std;
            using (var network = new FaceNetwork(options.Settings().Network, 5))
            {
                var head = (VmfUamHead)network.Head;
                head.train();
                using (var scope = NewDisposeScope())
                {
                    for (int step = 0; step < 3; step++)
                        head.forward(nn.functional.normalize(randn(6, 8), p: 2, dim: 1), rand(6, 1) * 30 + 5, tensor(new long[] { 0, 1, 2, 3, 4, 0 }));
                }
                (mean, std) = (head.MeanNorm, head.StdNorm);
                Assert.AreNotEqual(20f, mean);
                CollectionAssert.IsSubsetOf(new[] { "head.mean_norm", "head.std_norm" }, network.state_dict().Keys.ToArray());
                network.save(file);
            }
            using var restored = new FaceNetwork(options.Settings().Network, 5);
            restored.load(file);
            Assert.AreEqual(mean, ((VmfUamHead)restored.Head).MeanNorm);
            Assert.AreEqual(std, ((VmfUamHead)restored.Head).StdNorm);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

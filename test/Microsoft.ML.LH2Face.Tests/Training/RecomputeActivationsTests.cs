using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Training;

/// <summary>
/// Options.RecomputeActivations: the trunk keeps only each segment's input in the forward pass and recomputes the
/// segments in the backward pass. It must give the ordinary pass's gradients and batch-norm statistics exactly, train to
/// the same losses and model, and release what it keeps.
/// </summary>
[TestClass]
public sealed class RecomputeActivationsTests
{
    private const int Side = 32;

    private static IResNet Network(LH2FaceBackbone backbone, LH2FacePrecision precision, bool recompute, bool stem = false)
    {
        random.manual_seed(3);
        var network = (IResNet)BackboneFactory.Create(backbone, Side, 16, dropoutRate: 0);
        network.TrainingPrecision = precision;
        network.RecomputeActivations = recompute;
        network.RecomputeStem = stem;
        network.train();
        return network;
    }

    /// <summary>One training pass and backward; the loss weighs z by fixed random numbers (plain sums of a batch-normalised z are constant).</summary>
    private static void Step(IResNet network, bool recompute, Action? beforeRecomputation = null)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var pixels = randn(new long[] { 8, 3, Side, Side }, generator: generator);
        var weights = randn(new long[] { 8, 16 }, generator: generator);
        (network.forward(pixels) * weights).sum().backward();
        beforeRecomputation?.Invoke();
        if (recompute)
            network.BackwardRecomputed();
    }

    [TestMethod]
    [TestCategory("Numerics")] // also run by CI under ONEDNN_MAX_CPU_ISA=AVX2
    [DataRow(LH2FaceBackbone.Compact, LH2FacePrecision.Float32)]
    [DataRow(LH2FaceBackbone.IResNet18, LH2FacePrecision.Float32)]
    [DataRow(LH2FaceBackbone.Compact, LH2FacePrecision.BFloat16)]
    public void BackwardRecomputed_GivesTheOrdinaryGradientsAndStatisticsExactly(LH2FaceBackbone backbone, LH2FacePrecision precision)
    {
        using var recomputed = Network(backbone, precision, recompute: true);
        AssertSameGradientsAsTheOrdinaryPass(backbone, precision, recomputed, named =>
        {
            // Before the recomputation only the embedding layer has gradients: the trunk really kept no graph.
            Assert.IsNull(named["conv1.weight"].grad, "the stem has no gradient until the trunk is recomputed");
            Assert.IsNull(named["blocks.0.conv1.weight"].grad, "nor has the first block");
            Assert.IsNotNull(named["fc.weight"].grad, "the embedding layer's gradient comes from the loss's own backward");
        });
    }

    [TestMethod]
    [TestCategory("Numerics")] // also run by CI under ONEDNN_MAX_CPU_ISA=AVX2
    [DataRow(LH2FaceBackbone.Compact, LH2FacePrecision.Float32)]
    [DataRow(LH2FaceBackbone.IResNet18, LH2FacePrecision.Float32)]
    [DataRow(LH2FaceBackbone.Compact, LH2FacePrecision.BFloat16)]
    public void RecomputeStem_GivesTheOrdinaryGradientsAndStatisticsExactly(LH2FaceBackbone backbone, LH2FacePrecision precision)
    {
        using var recomputed = Network(backbone, precision, recompute: false, stem: true);
        AssertSameGradientsAsTheOrdinaryPass(backbone, precision, recomputed, named =>
        {
            // Before the recomputation the blocks have their gradients and the stem and the first block's entry have none:
            // only they kept no graph.
            Assert.IsNull(named["conv1.weight"].grad, "the stem has no gradient until it is recomputed");
            Assert.IsNull(named["prelu.weight"].grad, "nor has the stem's PReLU");
            Assert.IsNull(named["blocks.0.bn1.weight"].grad, "nor the first block's first batch norm");
            Assert.IsNull(named["blocks.0.downsample_conv.weight"].grad, "nor its shortcut");
            Assert.IsNotNull(named["blocks.0.conv1.weight"].grad, "the first block's convolutions get theirs from the loss's own backward");
        });
    }

    /// <summary>One step of <paramref name="recomputed"/> against the same network without recomputation: every parameter gradient and batch-norm buffer equal bit for bit.</summary>
    private static void AssertSameGradientsAsTheOrdinaryPass(LH2FaceBackbone backbone, LH2FacePrecision precision, IResNet recomputed, Action<Dictionary<string, TorchSharp.Modules.Parameter>> beforeRecomputation)
    {
        using var plain = Network(backbone, precision, recompute: false);
        Step(plain, recompute: false);
        Step(recomputed, recompute: true, beforeRecomputation: () => beforeRecomputation(recomputed.named_parameters().ToDictionary(p => p.name, p => p.parameter)));
        var expected = plain.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        int compared = 0;
        foreach (var (name, parameter) in recomputed.named_parameters())
        {
            if (!parameter.requires_grad)
                continue;
            var want = expected[name].grad!;
            var got = parameter.grad;
            Assert.IsNotNull(got, name);
            Assert.IsGreaterThan(0.0, want.abs().max().item<float>(), $"{name}: a gradient to compare");
            CollectionAssert.AreEqual(want.data<float>().ToArray(), got.data<float>().ToArray(), $"{name}: the same gradient bit for bit");
            compared++;
        }
        Assert.IsGreaterThan(10, compared);
        var buffers = plain.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in recomputed.named_buffers())
        {
            if (buffer.dtype == ScalarType.Int64)
                Assert.AreEqual(buffers[name].item<long>(), buffer.item<long>(), $"{name}: one step counted once");
            else
                CollectionAssert.AreEqual(buffers[name].data<float>().ToArray(), buffer.data<float>().ToArray(), $"{name}: running statistics moved once");
        }
    }

    [TestMethod]
    public void BackwardRecomputed_ReleasesWhatTheForwardPassKept()
    {
        using var network = Network(LH2FaceBackbone.Compact, LH2FacePrecision.Float32, recompute: true);
        Step(network, recompute: true);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
            Step(network, recompute: true);
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "live tensors after 1 and after 4 steps");
        // A pass that never reaches its backward (a non-finite loss) is dropped by DiscardRecomputation.
        using (var scope = NewDisposeScope())
            network.forward(randn(8, 3, Side, Side));
        Assert.IsGreaterThan(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "the segment inputs are kept until the backward");
        network.DiscardRecomputation();
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [TestMethod]
    public void RecomputeStem_KeepsNothingAfterAStep()
    {
        using var network = Network(LH2FaceBackbone.Compact, LH2FacePrecision.Float32, recompute: false, stem: true);
        Step(network, recompute: true);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
            Step(network, recompute: true);
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "live tensors after 1 and after 4 steps");
    }

    [TestMethod]
    public void Dispose_ReleasesAPassThatNeverReachedItsBackward()
    {
        // TorchSharp's layer constructors leave some handles behind: a network created and disposed without a pass is the control.
        long LeftBehind(bool pass)
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var network = Network(LH2FaceBackbone.Compact, LH2FacePrecision.Float32, recompute: true);
            if (pass)
            {
                using (NewDisposeScope())
                    network.forward(randn(8, 3, Side, Side));
            }
            network.Dispose();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }
        LeftBehind(pass: false);
        Assert.AreEqual(LeftBehind(pass: false), LeftBehind(pass: true), "the inputs kept for a recomputation go with the network");
    }

    [TestMethod]
    public void Forward_EvalOrWithoutGradients_KeepsNothing()
    {
        using var network = Network(LH2FaceBackbone.Compact, LH2FacePrecision.Float32, recompute: true);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (no_grad())
        using (NewDisposeScope())
            network.forward(randn(8, 3, Side, Side));
        network.eval();
        using (NewDisposeScope())
            network.forward(randn(8, 3, Side, Side));
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "no pass is waiting for a recomputation");
    }

    private static (float[] Losses, float[] Embeddings, long[] Live, List<string> Log) Fit(bool recompute, bool renderer)
    {
        var ml = new MLContext(seed: 1);
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(identities: 6, samples: 4, Side, seed: 9), Side);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw).Transform(raw);
        var options = TestFaces.QuickOptions(epochs: 3, batchSize: 8);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.DropoutRate = 0.1f;
        options.RecomputeActivations = recompute;
        if (renderer)
        {
            // Two trunk passes per step (the batch with its kappa-ranking copies, and the canonical faces).
            options.UseRenderer = true;
            options.RendererResolution = 16;
        }
        var live = new List<long>();
        var (losses, embeddings, log) = TestFaces.FitAndRecord(data, options, _ => live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        return (losses, embeddings, live.ToArray(), log);
    }

    [TestMethod]
    [DataRow(false, DisplayName = "default preset (kappa-ranking copies in the pass)")]
    [DataRow(true, DisplayName = "with the renderer (a second trunk pass on canonical faces)")]
    public void Fit_RecomputeActivations_TrainsTheSameModel(bool renderer)
    {
        var plain = Fit(recompute: false, renderer);
        var recomputed = Fit(recompute: true, renderer);
        Assert.HasCount(9, recomputed.Losses);
        CollectionAssert.AreEqual(plain.Losses, recomputed.Losses, "every step's loss");
        CollectionAssert.AreEqual(plain.Embeddings, recomputed.Embeddings, "the trained model's embeddings");
        Assert.AreEqual(recomputed.Live[2], recomputed.Live[^1], "live tensors flat from step 3 to the last");
        StringAssert.Contains(recomputed.Log.Single(l => l.StartsWith("Activation recomputation:", StringComparison.Ordinal)), "runs each block again in the backward pass");
        StringAssert.StartsWith(plain.Log.Single(l => l.StartsWith("Activation recomputation:", StringComparison.Ordinal)), "Activation recomputation: the stem and the first block's entry");
    }
}

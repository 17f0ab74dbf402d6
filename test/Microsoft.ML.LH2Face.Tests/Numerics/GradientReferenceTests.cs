using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Training;
using TorchSharp;
using static Microsoft.ML.LH2Face.Tests.Numerics.Float64Reference;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Numerics;

/// <summary>
/// Every trainable module against float64: the float32 gradients of each parameter and input must match
/// the same computation in float64 on the same values (batch 4 or more), on one and on two threads.
/// CI runs this class also under ONEDNN_MAX_CPU_ISA=AVX2, where oneDNN's blocked kernels for 8-wide
/// vectors run on any AVX2 machine.
/// </summary>
[TestClass]
[TestCategory("Numerics")]
public sealed class GradientReferenceTests
{
    private const int Batch = 4;
    private const int Classes = 6;
    private const int Dim = 16;

    /// <summary>Labels with repeats (positives for the proxy losses) and a class absent from the batch.</summary>
    private static Tensor Labels(int batch = Batch) => tensor(Enumerable.Range(0, batch).Select(i => (long)(i % (Classes - 1))).ToArray());

    [TestMethod]
    [DataRow(LH2FaceBackbone.Compact, 1, true)]
    [DataRow(LH2FaceBackbone.Compact, 2, true)]
    [DataRow(LH2FaceBackbone.IResNet18, 1, true)]
    [DataRow(LH2FaceBackbone.IResNet18, 2, true)]
    [DataRow(LH2FaceBackbone.IResNet34, 2, true)]
    [DataRow(LH2FaceBackbone.IResNet50, 2, false)]
    [DataRow(LH2FaceBackbone.IResNet100, 1, false)]
    public void Backbone_GradientsMatchFloat64(LH2FaceBackbone backbone, int threads, bool batchStatistics)
    {
        // Training-mode batch norm over 4 images couples the batch, and through 50-100 of them float32
        // rounding alone (measured with oneDNN's plain kernels, ONEDNN_MAX_CPU_ISA=AVX) reaches a relative
        // error of 4e-3 at 32 px. The deep backbones are therefore checked with their batch norms in eval
        // mode (a fixed affine map per channel), where every other kernel runs as in training; the batch-norm
        // backward itself is checked on the shallower ones.
        const int side = 32;
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            random.manual_seed(3);
            var network = BackboneFactory.Create(backbone, side, Dim, dropoutRate: 0);
            network.to(dtype);
            if (batchStatistics)
                network.train();
            else
                network.eval();
            var pixels = Input(Normal(dtype, 1, Batch, 3, side, side));
            var loss = Probe(network.forward(pixels), 2);
            return new GradientCase(Parameters(network).Append(("pixels", pixels)).ToList(), loss, network);
        }, $"{backbone} on {threads} thread(s)"));
    }

    public static IEnumerable<object[]> Heads()
    {
        yield return [LH2FaceHead.LH2Face, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser];
        yield return [LH2FaceHead.LH2Face, LH2FaceMarginFunction.QualityScaled, LH2FaceNormControl.VmfNll];
        yield return [LH2FaceHead.LH2Face, LH2FaceMarginFunction.AdaFace, LH2FaceNormControl.Detach];
        yield return [LH2FaceHead.ArcFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser];
        yield return [LH2FaceHead.CosFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser];
        yield return [LH2FaceHead.Softmax, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser];
        yield return [LH2FaceHead.AdaFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser];
        yield return [LH2FaceHead.MagFace, LH2FaceMarginFunction.Literal, LH2FaceNormControl.Regulariser];
    }

    [TestMethod]
    [DynamicData(nameof(Heads))]
    public void HeadAndLoss_GradientsMatchFloat64(LH2FaceHead head, LH2FaceMarginFunction margin, LH2FaceNormControl normControl)
    {
        // The LH2Face head with every proxy term on; the baselines alone, as their presets train.
        // (The LH2Face preset has the proxy terms off since the loss study: they are turned on here explicitly.)
        var options = head == LH2FaceHead.LH2Face
            ? new LH2FaceTrainer.Options { MarginFunction = margin, NormControl = normControl, ProxyPositiveSampleWeight = 1, ProxyNegativeSampleWeight = 1, ProxyProxyWeight = 1 }
            : LH2FaceTrainer.Options.FromPreset(Enum.Parse<LH2FaceLossPreset>(head.ToString()));
        options.EmbeddingSize = Dim;
        foreach (int threads in new[] { 1, 2 })
        {
            AtThreads(threads, () => AssertAgree(dtype =>
            {
                random.manual_seed(4);
                var module = HeadFactory.Create(options.Settings().Loss.Head, Classes);
                module.to(dtype);
                module.train();
                // Norms between 15 and 40: inside every head's clamps, so the gradient is not cut at a boundary.
                var z = Input(Normal(dtype, 5, 8, Dim) * 6);
                var (embedding, norm) = FaceNetwork.Split(z);
                var loss = new FaceLoss(options.Settings().Loss).Compute(module, embedding, norm, Labels(8)).Total;
                return new GradientCase(Parameters(module).Append(("z", z)).ToList(), loss, module);
            }, $"{head} ({margin}, {normControl}) on {threads} thread(s)"));
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void ProxyLosses_WeightedAndUnweighted_GradientsMatchFloat64(int threads)
    {
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            var labels = Labels(8);
            var x = Input(Normal(dtype, 6, 8, Dim));
            var proxies = Input(Normal(dtype, 7, Classes, Dim));
            var unitX = nn.functional.normalize(x, dim: 1);
            var inverseNorms = MarginHead.InverseNorms(proxies);
            var cos = MarginHead.Cosines(unitX, proxies, inverseNorms);
            var weights = Uniform(dtype, 8, 0.5, 3, Classes);
            var loss = ProxyLosses.PositiveSample(cos.gather(1, labels.unsqueeze(1)), labels, Classes, 32, 0.1)
                + ProxyLosses.NegativeSample(cos, labels, 32, 0.1)
                + ProxyLosses.NegativeSample(cos, labels, 32, 0.1, weights)
                + ProxyLosses.ProxyProxy(proxies, inverseNorms, labels, 32, 0.1)
                + ProxyLosses.ProxyProxy(proxies, inverseNorms, labels, 32, 0.1, weights);
            return new GradientCase([("x", x), ("proxies", proxies)], loss);
        }, $"proxy losses on {threads} thread(s)"));
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(1, 2)]
    [DataRow(3, 1)]
    [DataRow(3, 2)]
    [TestCategory("Renderer")]
    public void CanonicalDecoder_GradientsMatchFloat64(int outputChannels, int threads)
    {
        // The decoders end in a convolution of 1 (depth) or 3 (albedo) output channels: the shape oneDNN 3.7 got wrong.
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            random.manual_seed(9);
            var decoder = new CanonicalDecoder("decoder", Dim, 32, outputChannels);
            decoder.to(dtype);
            var embedding = Input(Normal(dtype, 10, Batch, Dim));
            var loss = Probe(decoder.forward(embedding), 11);
            return new GradientCase(Parameters(decoder).Append(("embedding", embedding)).ToList(), loss, decoder);
        }, $"decoder with {outputChannels} output channel(s) on {threads} thread(s)"));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [TestCategory("Renderer")]
    public void Geometry_ShadingAndWarp_GradientsMatchFloat64(int threads)
    {
        const int side = 16;
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            var depth = Input(1 + 0.3 * Normal(dtype, 12, Batch, 1, side, side).tanh());
            var albedo = Input(Uniform(dtype, 13, 0.1, 0.9, Batch, 3, side, side));
            var light = Input(Uniform(dtype, 14, -0.8, 0.8, Batch, 4));
            var view = Input(Uniform(dtype, 15, -0.3, 0.3, Batch, 5));
            var canonical = albedo * FaceRenderer.Shade(depth, light);
            var image = PhotoGeometry.InverseWarp(canonical, depth, view, iterations: 3);
            var loss = Probe(image, 16) + Probe(canonical, 17);
            return new GradientCase([("depth", depth), ("albedo", albedo), ("light", light), ("view", view)], loss);
        }, $"shading and warp on {threads} thread(s)"));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [TestCategory("Renderer")]
    public void RendererLosses_GradientsMatchFloat64(int threads)
    {
        const int side = 16;
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            var reconstruction = Input(Uniform(dtype, 18, 0, 1, Batch, 3, side, side));
            var flipped = Input(Uniform(dtype, 19, 0, 1, Batch, 3, side, side));
            var pixels = Uniform(dtype, 20, 0, 255, Batch, 3, 2 * side, 2 * side);
            var canonical = Input(Uniform(dtype, 21, 0, 1, Batch, 3, side, side));
            var features = Input(Normal(dtype, 22, Batch, Dim));
            var canonicalFeatures = Input(Normal(dtype, 23, Batch, Dim));
            var loss = RendererLosses.Reconstruction(reconstruction, RendererLosses.Target(pixels, side), flipped, 0.5, 0.5)
                + RendererLosses.ViewConsistency(features, canonicalFeatures)
                + Probe(RendererLosses.CanonicalPixels(canonical, 2 * side), 24) / 1000;
            return new GradientCase(
                [("reconstruction", reconstruction), ("flipped", flipped), ("canonical", canonical), ("features", features), ("canonical features", canonicalFeatures)], loss);
        }, $"renderer losses on {threads} thread(s)"));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [TestCategory("Renderer")]
    public void Renderer_RenderAndReconstruction_GradientsMatchFloat64(int threads)
    {
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            random.manual_seed(25);
            var renderer = new FaceRenderer(Dim, resolution: 16, warpIterations: 3, fieldOfViewDegrees: 10, depthPriorStrength: 0.5);
            renderer.to(dtype);
            var z = Input(Normal(dtype, 26, Batch, Dim) * 5);
            var render = renderer.Render(nn.functional.normalize(z, dim: 1), z, withFlip: true);
            var target = Uniform(dtype, 27, 0, 1, Batch, 3, 16, 16);
            var loss = RendererLosses.Reconstruction(render.Reconstruction, target, render.FlippedReconstruction, 0.5, 0.5);
            return new GradientCase(Parameters(renderer).Append(("z", z)).ToList(), loss, renderer);
        }, $"renderer on {threads} thread(s)"));
    }

    [TestMethod]
    [DataRow(false, 1)]
    [DataRow(false, 2)]
    [DataRow(true, 1)]
    [DataRow(true, 2)]
    [TestCategory("Renderer")]
    public void TrainingStep_WithRenderer_GradientsAndSgdUpdateMatchFloat64(bool canonicalTrainsRenderer, int threads)
    {
        const int side = 32;
        var options = new LH2FaceTrainer.Options
        {
            Backbone = LH2FaceBackbone.Compact,
            InputSize = side,
            EmbeddingSize = Dim,
            DropoutRate = 0,
            UseRenderer = true,
            RendererResolution = 16,
            CanonicalRecognitionWeight = 0.5f,
            ViewConsistencyWeight = 0.1f,
            CanonicalLossesTrainRenderer = canonicalTrainsRenderer,
        };
        // The loss of TrainingSession's step: L_FR (head and proxy terms) plus the weighted renderer terms; then one SGD step.
        AtThreads(threads, () => AssertAgree(dtype =>
        {
            random.manual_seed(28);
            var network = new FaceNetwork(options.Settings().Network, Classes);
            network.to(dtype);
            network.train();
            var pixels = Uniform(dtype, 29, 0, 255, 8, 3, side, side);
            var labels = Labels(8);
            var z = network.Features(pixels);
            var (embedding, norm) = FaceNetwork.Split(z);
            var loss = new FaceLoss(options.Settings().Loss).Compute(network.Head, embedding, norm, labels).Total;
            foreach (var (_, value, weight) in RendererTraining.Losses(network, pixels, z, labels, options.Settings().Renderer!, options.InputSize))
                loss = loss + weight * value;
            return new GradientCase(Parameters(network).ToList(), loss, network);
        }, $"training step (canonical losses train the renderer: {canonicalTrainsRenderer}) on {threads} thread(s)"));
    }
}

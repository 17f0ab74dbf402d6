using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Numerics;

[TestClass]
[TestCategory("Numerics")]
public sealed class ConvolutionRouteTests
{
    private static RoutedConv2d Layer(long inChannels, long outChannels, long side, long stride = 1)
    {
        var layer = new RoutedConv2d("layer", inChannels, outChannels, 3, stride: stride, padding: 1);
        using (no_grad())
            layer.forward(zeros(1, inChannels, side, side)).Dispose();
        return layer;
    }

    [TestMethod]
    [DataRow(1L)]
    [DataRow(3L)]
    [DataRow(8L)]
    [DataRow(17L)]
    [DataRow(24L)]
    [DataRow(32L)]
    public void PaddedAndUnfoldRoutes_ForwardAndGradientsMatchFloat64(long outChannels)
    {
        using var layer = Layer(16, outChannels, 16);
        using var generator = new Generator(1);
        foreach (int threads in new[] { 1, 2 })
        {
            Float64Reference.AtThreads(threads, () =>
            {
                foreach (var route in new[] { ConvolutionRoute.PaddedChannels, ConvolutionRoute.Unfold })
                {
                    double error = ConvolutionSelfCheck.Error(layer, route, generator, CPU);
                    Assert.IsLessThanOrEqualTo(ConvolutionSelfCheck.Tolerance, error, $"{route}, {outChannels} output channels, {threads} thread(s)");
                }
                if (outChannels % RoutedConv2d.ChannelBlock == 0)
                    Assert.IsLessThanOrEqualTo(ConvolutionSelfCheck.Tolerance, ConvolutionSelfCheck.Error(layer, ConvolutionRoute.Direct, generator, CPU), "Direct on a full block");
            });
        }
    }

    [TestMethod]
    public void Apply_PaddedRoute_EqualsTheHandComputedConvolution()
    {
        // One 2x2 image, one input channel, one output channel, a 3x3 kernel of ones plus bias 0.5, padding 1:
        // every output is the sum of the pixels in the 3x3 window (all four here) plus the bias.
        var x = tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 2, 2).expand(4, 1, 2, 2).contiguous();
        var w = ones(1, 1, 3, 3);
        var b = tensor(new float[] { 0.5f });
        foreach (var route in Enum.GetValues<ConvolutionRoute>())
        {
            var y = RoutedConv2d.Apply(route, x, w, b, 1, 1);
            CollectionAssert.AreEqual(new long[] { 4, 1, 2, 2 }, y.shape, route.ToString());
            Assert.IsTrue(y.eq(10.5f).all().item<bool>(), $"{route}: {string.Join(", ", y.data<float>().ToArray())}");
        }
    }

    [TestMethod]
    public void TapSum_EqualsLibTorchsFloat64Convolution_StridedAndPadded()
    {
        using var generator = new Generator(3);
        var x = randn(new long[] { 2, 5, 9, 7 }, dtype: ScalarType.Float64, generator: generator);
        var w = randn(new long[] { 4, 5, 3, 3 }, dtype: ScalarType.Float64, generator: generator);
        var b = randn(new long[] { 4 }, dtype: ScalarType.Float64, generator: generator);
        var expected = nn.functional.conv2d(x, w, b, [2, 2], [1, 1]);
        var actual = ConvolutionSelfCheck.TapSum(x, w, b, 2, 1);
        CollectionAssert.AreEqual(expected.shape, actual.shape);
        Assert.IsLessThan(1e-12, (expected - actual).abs().max().item<double>());
        // By hand, output (0, 0, 0, 0): padding 1 puts the window's top-left tap outside, so taps (1..2, 1..2) meet x[.., 0..1, 0..1].
        double byHand = b[0].item<double>();
        for (int c = 0; c < 5; c++)
            for (int i = 1; i < 3; i++)
                for (int j = 1; j < 3; j++)
                    byHand += x[0, c, i - 1, j - 1].item<double>() * w[0, c, i, j].item<double>();
        Assert.AreEqual(byHand, actual[0, 0, 0, 0].item<double>(), 1e-12);
    }

    [TestMethod]
    public void PreferredRoute_IsDirectOnlyForFullBlocks()
    {
        Assert.AreEqual(ConvolutionRoute.Direct, RoutedConv2d.PreferredRoute(16));
        Assert.AreEqual(ConvolutionRoute.Direct, RoutedConv2d.PreferredRoute(512));
        Assert.AreEqual(ConvolutionRoute.PaddedChannels, RoutedConv2d.PreferredRoute(1));
        Assert.AreEqual(ConvolutionRoute.PaddedChannels, RoutedConv2d.PreferredRoute(3));
        Assert.AreEqual(ConvolutionRoute.PaddedChannels, RoutedConv2d.PreferredRoute(24));
    }

    [TestMethod]
    [DataRow(LH2FaceBackbone.Compact)]
    [DataRow(LH2FaceBackbone.IResNet18)]
    [DataRow(LH2FaceBackbone.IResNet34)]
    [DataRow(LH2FaceBackbone.IResNet50)]
    [DataRow(LH2FaceBackbone.IResNet100)]
    public void Audit_EveryConvolution_OffBlockOnesAreTheRendererOutputsAndNotDirect(LH2FaceBackbone backbone)
    {
        var options = new LH2FaceTrainer.Options { Backbone = backbone, InputSize = 32, EmbeddingSize = 16, UseRenderer = true, RendererResolution = 16 };
        using var network = new FaceNetwork(options.Settings().Network, 4);
        var convolutions = network.named_modules().Where(m => m.module is RoutedConv2d).Select(m => (m.name, Layer: (RoutedConv2d)m.module)).ToList();
        // Every convolution of the network is a RoutedConv2d (a plain Conv2d would escape the check).
        Assert.IsFalse(network.modules().OfType<TorchSharp.Modules.Conv2d>().Any(), "a plain Conv2d would escape the self-check");
        var offBlock = convolutions.Where(c => c.Layer.OutChannels % RoutedConv2d.ChannelBlock != 0).ToList();
        CollectionAssert.AreEquivalent(new[] { "renderer.depth_decoder.output", "renderer.albedo_decoder.output" }, offBlock.Select(c => c.name).ToList());
        foreach (var (name, layer) in offBlock)
            Assert.AreEqual(ConvolutionRoute.PaddedChannels, layer.Route, name);
        Assert.IsTrue(convolutions.Except(offBlock).All(c => c.Layer.Route == ConvolutionRoute.Direct));
    }

    [TestMethod]
    public void Run_DirectMeasuredWrong_ReroutesEveryLayerOfTheShapeToPadded()
    {
        using var a = Layer(16, 32, 8);
        using var b = Layer(16, 32, 8);
        using var other = Layer(32, 32, 4);
        var checks = ConvolutionSelfCheck.Run([("a", a), ("b", b), ("other", other)], CPU,
            (layer, route) => layer.InChannels == 16 && route == ConvolutionRoute.Direct ? 0.9 : 1e-7);
        Assert.HasCount(2, checks);
        var rerouted = checks.Single(c => c.Rerouted);
        Assert.AreEqual("16->32 k3 s1 p1 bias at 8x8", rerouted.Shape);
        CollectionAssert.AreEqual(new[] { "a", "b" }, rerouted.Layers.ToList());
        Assert.AreEqual(ConvolutionRoute.PaddedChannels, rerouted.Route);
        Assert.AreEqual(ConvolutionRoute.PaddedChannels, a.Route);
        Assert.AreEqual(ConvolutionRoute.PaddedChannels, b.Route);
        Assert.AreEqual(ConvolutionRoute.Direct, other.Route);
        var line = ConvolutionSelfCheck.Describe(checks, TimeSpan.FromMilliseconds(12));
        StringAssert.Contains(line, "2 shapes");
        StringAssert.Contains(line, "16->32 k3 s1 p1 bias at 8x8 (a, b) was wrong through Direct (error 0.9), now PaddedChannels");
    }

    [TestMethod]
    public void Run_EveryRouteWrong_ThrowsNamingTheLayerTheCpuAndTheWorkaround()
    {
        using var layer = Layer(16, 3, 16);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ConvolutionSelfCheck.Run([("renderer.albedo_decoder.output", layer)], CPU, (_, route) => route == ConvolutionRoute.Unfold ? double.NaN : 0.5));
        StringAssert.Contains(error.Message, "'renderer.albedo_decoder.output' (16->3 k3 s1 p1 bias at 8x8)");
        StringAssert.Contains(error.Message, CpuDescription.Describe());
        StringAssert.Contains(error.Message, "PaddedChannels relative error 0.5, Unfold relative error NaN");
        StringAssert.Contains(error.Message, "ONEDNN_MAX_CPU_ISA=AVX");
    }

    [TestMethod]
    public void Run_ThisMachine_EachChosenRouteMatchesFloat64()
    {
        using var depth = Layer(16, 1, 16);
        using var wide = Layer(16, 32, 16, stride: 2);
        var checks = ConvolutionSelfCheck.Run([("depth", depth), ("wide", wide)], CPU);
        Assert.HasCount(2, checks);
        Assert.AreNotEqual(ConvolutionRoute.Direct, depth.Route, "a 1-channel output never trains through the direct kernels");
        using var generator = new Generator(5);
        foreach (var (layer, check) in new[] { (depth, checks[0]), (wide, checks[1]) })
        {
            Assert.AreEqual(check.Route, layer.Route);
            Assert.IsLessThanOrEqualTo(ConvolutionSelfCheck.Tolerance, check.Errors[^1].Error);
            for (int i = 0; i < 3; i++)
                Assert.IsLessThanOrEqualTo(ConvolutionSelfCheck.Tolerance, ConvolutionSelfCheck.Error(layer, layer.Route, generator, CPU), "measured again");
        }
    }

    [TestMethod]
    public void ExportOnnx_DoesNotDependOnTheRoute()
    {
        var options = new LH2FaceTrainer.Options { Backbone = LH2FaceBackbone.Compact, InputSize = 32, EmbeddingSize = 16, UseRenderer = true, RendererResolution = 16 };
        random.manual_seed(8);
        using var network = new FaceNetwork(options.Settings().Network, 4);
        network.eval();
        var summary = new LH2FaceTrainingSummary(1, 1, [1f], [], null, null, false, TimeSpan.Zero);
        var description = new LH2FaceModelDescription(options.Settings(), 4, summary);
        var padded = OnnxModelExporter.Export(network, description, OnnxModelExporter.StandaloneNames);
        foreach (var layer in network.modules().OfType<RoutedConv2d>())
            layer.Route = ConvolutionRoute.Unfold;
        var unfold = OnnxModelExporter.Export(network, description, OnnxModelExporter.StandaloneNames);
        CollectionAssert.AreEqual(padded, unfold);
    }

    [TestMethod]
    public void Fit_WithRenderer_LogsTheSelfCheckAndThePaddedOutputs()
    {
        var ml = new MLContext(seed: 3);
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Source == "LH2Face" && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (messages) messages.Add(e.Message); };
        var data = TestFaces.PixelData(ml, TestFaces.PixelRows(3, 4, 32, 18), 32);
        var options = TestFaces.QuickOptions(epochs: 1, batchSize: 6);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.UseRenderer = true;
        options.RendererResolution = 16;
        using var model = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Append(ml.Transforms.LH2Face(options)).Fit(data);
        var line = messages.SingleOrDefault(m => m.Contains("Convolution self-check on ", StringComparison.Ordinal));
        Assert.IsNotNull(line, string.Join("\n", messages));
        StringAssert.Contains(line, CpuDescription.Describe());
        // Compact at 32 px: the stem, five block shapes, the downsample convolutions, and the renderer's stages and outputs.
        StringAssert.Matches(line, new System.Text.RegularExpressions.Regex(@": \d+ shapes \(\d+ checked earlier in this process\), forward and input gradients within 0\.0001 of float64 in \d+ ms"));
        StringAssert.Contains(line, "16->1 k3 s1 p1 bias at 8x8");
        StringAssert.Contains(line, "16->3 k3 s1 p1 bias at 8x8");
    }
}

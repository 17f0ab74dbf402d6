using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Training;
using TorchSharp;
using static Microsoft.ML.LH2Face.Tests.Numerics.Float64Reference;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Numerics;

/// <summary>
/// Options.Precision = BFloat16: the backbone's training passes compute in bfloat16 against float32 master weights. Its
/// gradients are checked against the same network in float64 (with a bfloat16 tolerance, and far enough from float32's
/// rounding to show bfloat16 really ran), its convolutions pass a bfloat16 self-check, eval passes are float32 bit for
/// bit, and a bfloat16 Fit trains, logs what it did and resumes exactly.
/// </summary>
[TestClass]
[TestCategory("Numerics")]
public sealed class BFloat16Tests
{
    private const int Side = 32;
    private const int Batch = 8;
    private const int Dim = 16;

    /// <summary>
    /// Largest relative gradient error accepted per tensor in a bfloat16 pass: 8-bit significands through a training-mode
    /// batch norm over 8 images (which subtracts means, so rounding grows) measured 1.5 % at the embedding layer, up to 17 %
    /// at the first layers and 8-12 % for the pixels (Compact and IResNet-18 at 32 px, the same whether the first
    /// convolution runs through oneDNN's bfloat16 kernel or through Unfold). A wrong gradient is off by 100 % or more.
    /// </summary>
    private const double Tolerance = 0.25;

    /// <summary>Relative error of all weight gradients together (the update direction), measured 0.047 (Compact) and 0.074 (IResNet-18).</summary>
    private const double WholeTolerance = 0.15;

    private static IResNet Network(LH2FaceBackbone backbone, ScalarType dtype, LH2FacePrecision precision)
    {
        random.manual_seed(3);
        var network = (IResNet)BackboneFactory.Create(backbone, Side, Dim, dropoutRate: 0);
        network.to(dtype);
        network.TrainingPrecision = precision;
        network.train();
        return network;
    }

    /// <summary>The routes Fit trains a bfloat16 backbone through: sizes recorded by an eval pass, then the bfloat16 self-check.</summary>
    private static void CheckAsFitDoes(IResNet network)
    {
        network.eval();
        using (no_grad())
        using (NewDisposeScope())
            network.forward(zeros(2, 3, Side, Side));
        network.train();
        var layers = network.named_modules().Where(m => m.module is RoutedConv2d).Select(m => (m.name, (RoutedConv2d)m.module)).ToList();
        ConvolutionSelfCheck.Run(layers, CPU, compute: ScalarType.BFloat16);
    }

    [TestMethod]
    [DataRow(LH2FaceBackbone.Compact)]
    [DataRow(LH2FaceBackbone.IResNet18)]
    public void TrainingPass_BFloat16_GradientsReachFloat32WeightsNearTheFloat64Reference(LH2FaceBackbone backbone)
    {
        GradientCase Build(ScalarType dtype)
        {
            // The float64 reference, or the float32 network with bfloat16 training passes.
            var network = Network(backbone, dtype, dtype == ScalarType.Float32 ? LH2FacePrecision.BFloat16 : LH2FacePrecision.Float32);
            if (dtype == ScalarType.Float32)
                CheckAsFitDoes(network);
            var pixels = Input(Normal(dtype, 1, Batch, 3, Side, Side));
            var z = network.forward(pixels);
            Assert.AreEqual(dtype, z.dtype, "the backbone's output keeps the input's type");
            return new GradientCase(Parameters(network).Append(("pixels", pixels)).ToList(), Probe(z, 2), network);
        }

        var low = Gradients(Build, ScalarType.Float32);
        var reference = Gradients(Build, ScalarType.Float64);
        CollectionAssert.AreEquivalent(reference.Keys.ToList(), low.Keys.ToList(), "every weight gets a gradient through the casts");
        double largest = reference.Values.Max(g => g.norm().item<double>());
        var errors = reference.Select(r =>
        {
            double norm = r.Value.norm().item<double>();
            double diff = (low[r.Key] - r.Value).norm().item<double>();
            return (Name: r.Key, Error: norm > VanishingFraction * largest ? diff / norm : diff / largest);
        }).ToList();
        var bad = errors.Where(e => !(e.Error <= Tolerance)).ToList();
        Assert.IsEmpty(bad, $"{backbone}: bfloat16 gradients off float64 by more than {Tolerance}: {string.Join(", ", bad.Select(b => $"{b.Name} {b.Error:G3}"))}");
        var weights = reference.Keys.Where(k => k != "pixels").ToList();
        double diffSquares = weights.Sum(k => (low[k] - reference[k]).square().sum().item<double>());
        double refSquares = weights.Sum(k => reference[k].square().sum().item<double>());
        double whole = Math.Sqrt(diffSquares / refSquares);
        var worst = errors.MaxBy(e => e.Error);
        Console.WriteLine($"{backbone} bfloat16: {errors.Count} gradients, worst {worst.Name} {worst.Error:G3}, all weights together {whole:G3}");
        Assert.IsLessThanOrEqualTo(WholeTolerance, whole, "the update direction as a whole");
        Assert.IsGreaterThan(1e-3, worst.Error, "float32 arithmetic gives about 1e-6: an error this small means the pass did not run in bfloat16");
        foreach (var g in low.Values.Concat(reference.Values))
            g.Dispose();
    }

    [TestMethod]
    public void TrainingPass_BFloat16_MasterWeightsAndTheirGradientsStayFloat32()
    {
        using var network = Network(LH2FaceBackbone.Compact, ScalarType.Float32, LH2FacePrecision.BFloat16);
        using var scope = NewDisposeScope();
        network.forward(Normal(ScalarType.Float32, 1, Batch, 3, Side, Side)).square().sum().backward();
        foreach (var (name, p) in network.named_parameters())
        {
            Assert.AreEqual(ScalarType.Float32, p.dtype, name);
            if (p.requires_grad)
                Assert.AreEqual(ScalarType.Float32, p.grad!.dtype, name);
        }
        foreach (var (name, b) in network.named_buffers())
            Assert.IsTrue(b.dtype is ScalarType.Float32 or ScalarType.Int64, $"{name} is {b.dtype}: batch-norm statistics stay float32");
    }

    [TestMethod]
    public void EvalPass_IgnoresThePrecision_BitForBit()
    {
        using var plain = Network(LH2FaceBackbone.Compact, ScalarType.Float32, LH2FacePrecision.Float32);
        using var low = Network(LH2FaceBackbone.Compact, ScalarType.Float32, LH2FacePrecision.BFloat16);
        plain.eval();
        low.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var pixels = Normal(ScalarType.Float32, 4, Batch, 3, Side, Side);
        CollectionAssert.AreEqual(plain.forward(pixels).data<float>().ToArray(), low.forward(pixels).data<float>().ToArray());
        low.train();
        var trained = low.forward(pixels);
        plain.train();
        var reference = plain.forward(pixels);
        double relative = (trained - reference).norm().item<float>() / reference.norm().item<float>();
        Assert.IsTrue(relative is > 1e-4 and < 0.05, $"a training pass in bfloat16 is near the float32 one, and not equal to it (relative difference {relative:G3})");
    }

    [TestMethod]
    public void SelfCheck_BFloat16_ChecksTheBackboneShapesWithinItsTolerance()
    {
        var options = new LH2FaceTrainer.Options { Backbone = LH2FaceBackbone.Compact, InputSize = Side, EmbeddingSize = Dim, UseRenderer = true, RendererResolution = 16 };
        random.manual_seed(8);
        using var network = new FaceNetwork(options.Settings().Network, 4);
        network.TrainingPrecision = LH2FacePrecision.BFloat16;
        network.RecordConvolutionSizes(Side, CPU);
        var checks = network.CheckConvolutions(CPU, useCache: false);
        var low = checks.Where(c => c.Compute == ScalarType.BFloat16).ToList();
        var high = checks.Where(c => c.Compute == ScalarType.Float32).ToList();
        Assert.IsNotEmpty(low);
        Assert.IsTrue(low.SelectMany(c => c.Layers).All(l => l.StartsWith("backbone.", StringComparison.Ordinal)), "the renderer trains in float32: only the backbone is checked in bfloat16");
        Assert.AreEqual(high.SelectMany(c => c.Layers).Count(l => l.StartsWith("backbone.", StringComparison.Ordinal)), low.SelectMany(c => c.Layers).Count());
        foreach (var c in low)
        {
            double error = c.Errors[^1].Error;
            Assert.IsTrue(error is > 1e-4 and <= ConvolutionSelfCheck.BFloat16Tolerance, $"{c.Shape}: error {error:G3} must be bfloat16's, within {ConvolutionSelfCheck.BFloat16Tolerance}");
        }
        var line = ConvolutionSelfCheck.Describe(checks, TimeSpan.FromMilliseconds(5));
        Console.WriteLine(line);
        StringAssert.Contains(line, $"{high.Count} shapes");
        StringAssert.Contains(line, $"and the backbone's {low.Count} shapes in bfloat16 within 0.02");
    }

    [TestMethod]
    public void SelfCheck_ErrorOfOnePercent_PassesInBFloat16AndFailsInFloat32NamingTheFix()
    {
        using var layer = new RoutedConv2d("c", 16, 32, 3, padding: 1);
        layer.forward(zeros(2, 16, 8, 8));
        var checks = ConvolutionSelfCheck.Run([("c", layer)], CPU, (_, _) => 0.01, compute: ScalarType.BFloat16);
        Assert.AreEqual(ConvolutionRoute.Direct, checks.Single().Route);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ConvolutionSelfCheck.Run([("c", layer)], CPU, (_, _) => 0.01));
        StringAssert.Contains(error.Message, "ONEDNN_MAX_CPU_ISA=AVX");
        var low = Assert.ThrowsExactly<InvalidOperationException>(() => ConvolutionSelfCheck.Run([("c", layer)], CPU, (_, _) => 0.5, compute: ScalarType.BFloat16));
        StringAssert.Contains(low.Message, "computes wrong results in bfloat16");
        StringAssert.Contains(low.Message, "Options.Precision = Float32");
    }
}

using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Rendering;

[TestClass]
[TestCategory("Renderer")]
public sealed class FaceRendererTests
{
    [TestMethod]
    public void Render_Shapes_AndRanges()
    {
        random.manual_seed(1);
        using var renderer = new FaceRenderer(embeddingSize: 8, resolution: 32, warpIterations: 3, fieldOfViewDegrees: 10);
        using var scope = NewDisposeScope();
        var z = randn(3, 8) * 5;
        var r = renderer.Render(nn.functional.normalize(z, dim: 1), z, withFlip: true);
        CollectionAssert.AreEqual(new long[] { 3, 1, 32, 32 }, r.Depth.shape);
        CollectionAssert.AreEqual(new long[] { 3, 3, 32, 32 }, r.Albedo.shape);
        CollectionAssert.AreEqual(new long[] { 3, 4 }, r.Light.shape);
        CollectionAssert.AreEqual(new long[] { 3, 5 }, r.View.shape);
        CollectionAssert.AreEqual(new long[] { 3, 3, 32, 32 }, r.Canonical.shape);
        CollectionAssert.AreEqual(new long[] { 3, 3, 32, 32 }, r.Reconstruction.shape);
        CollectionAssert.AreEqual(new long[] { 3, 3, 32, 32 }, r.FlippedReconstruction!.shape);
        Assert.IsTrue(r.Depth.min().item<float>() >= 0.9f && r.Depth.max().item<float>() <= 1.1f);
        var limits = FaceRenderer.ViewLimits;
        for (int k = 0; k < 5; k++)
            Assert.IsTrue(r.View.select(1, k).abs().max().item<float>() <= limits[k]);
        Assert.IsNull(renderer.Render(nn.functional.normalize(z, dim: 1), z, withFlip: false).FlippedReconstruction);
    }

    [TestMethod]
    public void ReliefScale_IsOneOverTanOfHalfTheFieldOfView()
    {
        Assert.AreEqual(11.430052302761343, FaceRenderer.ReliefScale(10), 1e-12); // 1 / tan(5 degrees)
        Assert.AreEqual(1.0, FaceRenderer.ReliefScale(90), 1e-12);
    }

    [TestMethod]
    public void Render_ShadesAndWarpsTheDepthAsReliefOfTheFieldOfView()
    {
        var renderers = new Dictionary<double, FaceRenderer>();
        foreach (var fov in new[] { 10.0, 90.0 })
        {
            random.manual_seed(5); // the same weights for both
            var renderer = new FaceRenderer(8, 32, warpIterations: 3, fieldOfViewDegrees: fov);
            using (no_grad())
            {
                // A depth decoder far from its near-flat start, so the map has relief.
                var decoder = (CanonicalDecoder)renderer.named_modules().Single(m => m.name == "depth_decoder").module;
                decoder.modules().OfType<Linear>().First().weight!.mul_(30);
                decoder.modules().OfType<RoutedConv2d>().Last().Weight.mul_(100);
            }
            renderers[fov] = renderer;
        }
        using var scope = NewDisposeScope();
        var z = randn(2, 8) * 5;
        var x = nn.functional.normalize(z, dim: 1);
        using var noGrad = no_grad();
        var deep = renderers[10].Render(x, z, withFlip: false);
        var unit = renderers[90].Render(x, z, withFlip: false);
        Assert.IsTrue(deep.Depth.eq(unit.Depth).all().item<bool>(), "the depth D itself does not depend on the field of view");
        float range = (deep.Depth.max() - deep.Depth.min()).item<float>();
        Assert.IsGreaterThan(0.02f, range, $"the test needs a depth map with relief (range {range})");
        // At 90 degrees the relief is D - 1 half-widths; at 10 degrees it is (D - 1) / tan(5 degrees).
        var surface = 1 + (deep.Depth - 1) * FaceRenderer.ReliefScale(10);
        Assert.IsTrue(unit.Canonical.allclose(unit.Albedo * FaceRenderer.Shade(unit.Depth, unit.Light), atol: 1e-6));
        Assert.IsTrue(deep.Canonical.allclose(deep.Albedo * FaceRenderer.Shade(surface, deep.Light), atol: 1e-5));
        Assert.IsTrue(deep.Reconstruction.allclose(PhotoGeometry.InverseWarp(deep.Canonical, surface, deep.View, 3), atol: 1e-5));
        float shadingChange = (deep.Canonical - unit.Canonical).abs().max().item<float>();
        Assert.IsGreaterThan(0.01f, shadingChange, "a deeper face shades differently");
        foreach (var r in renderers.Values)
            r.Dispose();
    }

    [TestMethod]
    public void DepthPrior_WithAZeroDecoder_IsAConvexBumpNearestAtTheCentre()
    {
        const int side = 16;
        random.manual_seed(6);
        using var renderer = new FaceRenderer(8, side, warpIterations: 0, fieldOfViewDegrees: 10, depthPriorStrength: 0.5);
        using (no_grad())
        {
            // Every weight of the depth decoder zero: its raw output is exactly 0, so D shows the prior alone.
            var decoder = renderer.named_modules().Single(m => m.name == "depth_decoder").module;
            foreach (var p in decoder.parameters())
                p.zero_();
        }
        using var scope = NewDisposeScope();
        var z = randn(2, 8);
        using var noGrad = no_grad();
        var depth = renderer.Render(nn.functional.normalize(z, dim: 1), z, withFlip: false).Depth;
        // D = 1 + 0.1 tanh(-0.5 (1 - x^2 - y^2)), by hand at two pixels: the centre-most (x = y = 1/16) and the corner (x = y = -15/16).
        double Expected(double x, double y) => 1 + 0.1 * Math.Tanh(-0.5 * (1 - x * x - y * y));
        Assert.AreEqual(Expected(1.0 / 16, 1.0 / 16), depth[1, 0, 8, 8].item<float>(), 1e-6);
        Assert.AreEqual(Expected(-15.0 / 16, -15.0 / 16), depth[0, 0, 0, 0].item<float>(), 1e-6);
        Assert.IsLessThan(1f, depth[0, 0, 8, 8].item<float>(), "the centre is nearer than the plane at depth 1");
        Assert.IsGreaterThan(1f, depth[0, 0, 0, 0].item<float>(), "the corners are farther");
        CollectionAssert.AreEqual(new float[side * side], FaceRenderer.DepthPrior(side, 0));
    }

    [TestMethod]
    public void Constructor_ResolutionNotMultipleOf16_Throws()
        => Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FaceRenderer(8, 40, 3, 10));

    [TestMethod]
    public void Losses_GradientsReachEveryRendererParameterAndTheInputs()
    {
        random.manual_seed(2);
        using var renderer = new FaceRenderer(embeddingSize: 8, resolution: 16, warpIterations: 3, fieldOfViewDegrees: 10);
        using var scope = NewDisposeScope();
        var z = (randn(4, 8) * 5).requires_grad_(true);
        var r = renderer.Render(nn.functional.normalize(z, dim: 1), z, withFlip: true);
        var target = rand(4, 3, 16, 16);
        var loss = RendererLosses.Reconstruction(r.Reconstruction, target, r.FlippedReconstruction, 0.5, 0.5);
        loss.backward();
        int count = 0;
        foreach (var (name, p) in renderer.named_parameters())
        {
            Assert.IsNotNull(p.grad, name);
            Assert.IsGreaterThan(0f, p.grad.abs().sum().item<float>(), $"no gradient reaches {name}");
            count++;
        }
        // Two decoders of 6 layers and two heads of 2 layers, weight and bias each.
        Assert.AreEqual(2 * 2 * 6 + 2 * 2 * 2, count);
        Assert.IsGreaterThan(0f, z.grad!.abs().sum().item<float>(), "no gradient reaches the backbone features");
    }

    [TestMethod]
    public void ExportOnnx_MatchesTorchSharpWithin1e4()
    {
        const int d = 16, side = 32, batch = 3;
        random.manual_seed(4);
        using var renderer = new FaceRenderer(d, side, warpIterations: 3, fieldOfViewDegrees: 10, depthPriorStrength: 0.5);
        // Larger output weights than the initialisation so views and lights are far from neutral.
        using (no_grad())
        {
            foreach (var head in renderer.modules().OfType<RendererHead>())
                head.modules().OfType<Linear>().Last().weight!.mul_(20);
            foreach (var decoder in renderer.modules().OfType<CanonicalDecoder>())
                decoder.modules().OfType<RoutedConv2d>().Last().Weight.mul_(200);
        }
        renderer.eval();
        using var scope = NewDisposeScope();
        var z = randn(batch, d) * 4;
        var x = nn.functional.normalize(z, dim: 1);
        RenderOutput expected;
        using (no_grad())
            expected = renderer.Render(x, z, withFlip: false);
        Assert.IsGreaterThan(0.3f, expected.View.narrow(1, 0, 3).abs().max().item<float>(), "the test should rotate by more than 0.3 rad");
        float moved = (expected.Reconstruction - expected.Canonical).abs().mean().item<float>();
        // 50 times the agreement tolerance: the warp moves the image, so the test checks it.
        Assert.IsGreaterThan(0.005f, moved, $"the warp should move the image (mean change {moved})");

        var g = new OnnxGraphBuilder();
        g.AddInput("embedding", "N", d);
        g.AddInput("features", "N", d);
        var values = renderer.ExportOnnx(g, "embedding", "features", "renderer");
        g.Identity(values.Depth, "depth");
        g.Identity(values.Canonical, "canonical");
        g.Identity(values.Reconstruction, "reconstruction");
        g.AddOutput("depth", "N", 1, side, side);
        g.AddOutput("canonical", "N", 3, side, side);
        g.AddOutput("reconstruction", "N", 3, side, side);
        using var session = new InferenceSession(g.ToBytes());
        var feeds = new[]
        {
            NamedOnnxValue.CreateFromTensor("embedding", new DenseTensor<float>(x.data<float>().ToArray(), new[] { batch, d })),
            NamedOnnxValue.CreateFromTensor("features", new DenseTensor<float>(z.data<float>().ToArray(), new[] { batch, d })),
        };
        using var results = session.Run(feeds);
        var actual = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
        var differences = new Dictionary<string, double>();
        foreach (var (name, t) in new[] { ("depth", expected.Depth), ("canonical", expected.Canonical), ("reconstruction", expected.Reconstruction) })
        {
            var e = t.data<float>().ToArray();
            Assert.HasCount(e.Length, actual[name]);
            differences[name] = e.Zip(actual[name], (a, b) => Math.Abs(a - b)).Max();
        }
        string report = string.Join(", ", differences.Select(p => $"{p.Key} {p.Value:E2}"));
        foreach (var difference in differences.Values)
            Assert.IsLessThan(1e-4, difference, $"max |ONNX - TorchSharp|: {report}");
    }
}

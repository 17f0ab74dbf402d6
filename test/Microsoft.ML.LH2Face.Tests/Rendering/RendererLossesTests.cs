using Microsoft.ML.LH2Face.Rendering;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Rendering;

[TestClass]
[TestCategory("Renderer")]
public sealed class RendererLossesTests
{
    [TestMethod]
    public void Reconstruction_L1PlusFlipPlusGradient_HandComputed()
    {
        using var scope = NewDisposeScope();
        // 1 x 1 x 2 x 2 images.
        var target = tensor(new[] { 0f, 1f, 0f, 1f }).view(1, 1, 2, 2);
        var image = tensor(new[] { 0.5f, 0.5f, 0f, 1f }).view(1, 1, 2, 2);
        var flipped = tensor(new[] { 1f, 0f, 0f, 1f }).view(1, 1, 2, 2);
        // L1: (0.5 + 0.5 + 0 + 0) / 4 = 0.25; flip L1: (1 + 1) / 4 = 0.5.
        // Gradients: dx of image (0, 1), of target (1, 1) -> |diff| mean 0.5; dy image (-0.5, 0.5), target (0, 0) -> 0.5; half their sum 0.5.
        Assert.AreEqual(0.25, RendererLosses.Reconstruction(image, target, null, 0.5, 0).item<float>(), 1e-6);
        Assert.AreEqual(0.25 + 0.5 * 0.5, RendererLosses.Reconstruction(image, target, flipped, 0.5, 0).item<float>(), 1e-6);
        Assert.AreEqual(0.5, RendererLosses.GradientL1(image, target).item<float>(), 1e-6);
        Assert.AreEqual(0.25 + 0.25 + 2 * 0.5, RendererLosses.Reconstruction(image, target, flipped, 0.5, 2).item<float>(), 1e-6);
    }

    [TestMethod]
    public void ViewConsistency_OneMinusCosine_MeanOverBatch()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1f, 0f, 3f, 4f }).view(2, 2);
        var b = tensor(new[] { 0f, 2f, 3f, 4f }).view(2, 2);
        // Rows: orthogonal (1 - 0) and identical (1 - 1): mean 0.5.
        Assert.AreEqual(0.5, RendererLosses.ViewConsistency(a, b).item<float>(), 1e-6);
    }

    [TestMethod]
    public void Target_AreaAveragesToTheRendererResolution()
    {
        using var scope = NewDisposeScope();
        var pixels = arange(16, dtype: ScalarType.Float32).view(1, 1, 4, 4) * 10;
        var target = RendererLosses.Target(pixels, 2).data<float>().ToArray();
        // Top-left 2x2 block: (0 + 10 + 40 + 50) / 4 / 255.
        Assert.AreEqual(25.0 / 255, target[0], 1e-6);
        Assert.AreEqual((100 + 110 + 140 + 150) / 4.0 / 255, target[3], 1e-6);
        Assert.AreEqual(150.0 / 255, RendererLosses.Target(pixels, 4).data<float>()[15], 1e-6);
    }
}

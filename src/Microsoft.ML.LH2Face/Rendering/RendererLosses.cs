using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// The renderer's loss terms (METHOD.md section 4). Images are RGB in 0..1 at the renderer
/// resolution; the recognition loss on the canonical face is the head's own loss, so it is taken
/// where the head is (see <see cref="RendererTraining"/>).
/// </summary>
internal static class RendererLosses
{
    /// <summary>The input pixels [B, 3, S, S] in 0..255 as a 0..1 target at the renderer resolution (area average when S differs).</summary>
    public static Tensor Target(Tensor pixels, int resolution)
    {
        using var scale = 255.0.ToScalar(); // held for the call, see FaceNetwork.Features
        var target = pixels.div(scale);
        return pixels.shape[2] == resolution && pixels.shape[3] == resolution
            ? target
            : functional.adaptive_avg_pool2d(target, new long[] { resolution, resolution });
    }

    /// <summary>
    /// L_reco = L1(I_hat, I) + flipWeight * L1(I_hat_flip, I) + gradientWeight * (L1 of the image
    /// gradients of I_hat against those of I). Means over every pixel and channel.
    /// </summary>
    public static Tensor Reconstruction(Tensor reconstruction, Tensor target, Tensor? flipped, double flipWeight, double gradientWeight)
    {
        using var scope = NewDisposeScope();
        var loss = (reconstruction - target).abs().mean();
        if (flipped is not null && flipWeight > 0)
            loss = loss + flipWeight * (flipped - target).abs().mean();
        if (gradientWeight > 0)
            loss = loss + gradientWeight * GradientL1(reconstruction, target);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Mean L1 distance between the horizontal and vertical forward differences of two images [B, C, H, W].</summary>
    public static Tensor GradientL1(Tensor image, Tensor target)
    {
        using var scope = NewDisposeScope();
        Tensor Dx(Tensor t) => t.narrow(3, 1, t.shape[3] - 1) - t.narrow(3, 0, t.shape[3] - 1);
        Tensor Dy(Tensor t) => t.narrow(2, 1, t.shape[2] - 1) - t.narrow(2, 0, t.shape[2] - 1);
        var loss = 0.5 * ((Dx(image) - Dx(target)).abs().mean() + (Dy(image) - Dy(target)).abs().mean());
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>L_view = mean over the batch of 1 - cos(f(I), f(J)) between the features [B, d] of the input and of its canonical face.</summary>
    public static Tensor ViewConsistency(Tensor inputFeatures, Tensor canonicalFeatures)
    {
        using var scope = NewDisposeScope();
        var cosine = functional.cosine_similarity(inputFeatures, canonicalFeatures, dim: 1, eps: 1e-8);
        return (1 - cosine).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The canonical face [B, 3, R, R] (0..1) as backbone input: 0..255 pixels at the input size (bilinear when R differs), not clamped.</summary>
    public static Tensor CanonicalPixels(Tensor canonical, int inputSize)
    {
        using var scale = 255.0.ToScalar(); // held for the call, see FaceNetwork.Features
        var pixels = canonical.mul(scale);
        return canonical.shape[2] == inputSize
            ? pixels
            : functional.interpolate(pixels, size: new long[] { inputSize, inputSize }, mode: InterpolationMode.Bilinear, align_corners: false);
    }
}

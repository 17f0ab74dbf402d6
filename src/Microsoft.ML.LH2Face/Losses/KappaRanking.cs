using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// A self-supervised signal that makes kappa = ||z|| rank image quality: part of each batch is copied and
/// degraded (blur or down-and-up sampling, sensor noise, exposure), the copies go through the backbone in
/// the same forward pass as the batch (so batch norm treats both alike), and each copy must end with a
/// smaller norm than its source: hinge(log kappa(copy) - log kappa(source) + margin). No label is read: a
/// degraded copy is less certain than its source whatever the source was. The recognition losses see the
/// clean batch only.
/// </summary>
internal static class KappaRanking
{
    /// <summary>Name of the term in the progress reports.</summary>
    public const string Term = "kappa_ranking";

    /// <summary>Name of the degraded-consistency term in the progress reports.</summary>
    public const string ConsistencyTerm = "degraded_consistency";

    /// <summary>mean over the copies of 1 - cos(z_copy, z_source), the sources held constant; z [n, d].</summary>
    public static Tensor Consistency(Tensor sourceFeatures, Tensor copyFeatures)
    {
        using var scope = NewDisposeScope();
        var cosine = functional.cosine_similarity(copyFeatures, sourceFeatures.detach(), 1, 1e-8);
        return (1 - cosine).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Degraded copies of <paramref name="pixels"/> [n, 3, S, S] (0..255), one random degradation each from the
    /// global random stream (reseeded every step, so a resumed run degrades alike): a Gaussian blur of sigma
    /// 0.6-2.0 px at 64 px (scaled with S) or a down-and-up sampling to 25-60 % of the side, then with
    /// probability 1/2 Gaussian noise of sigma 2-12 levels and with probability 1/3 an exposure gain of
    /// 2^(+-0.5..1). No gradient.
    /// </summary>
    public static Tensor Degrade(Tensor pixels)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = pixels.shape[0], side = pixels.shape[2];
        var u = rand(new[] { n, 6 }, dtype: ScalarType.Float64).data<double>().ToArray();
        var copies = new List<Tensor>();
        for (int i = 0; i < n; i++)
        {
            var image = pixels.narrow(0, i, 1);
            double kind = u[6 * i], a = u[6 * i + 1], noise = u[6 * i + 2], noiseLevel = u[6 * i + 3], exposure = u[6 * i + 4], gain = u[6 * i + 5];
            image = kind < 0.5
                ? Blur(image, (0.6 + 1.4 * a) * side / 64.0)
                : Resample(image, Math.Max(4, (int)Math.Round(side * (0.25 + 0.35 * a))));
            if (noise < 0.5)
                image = image + randn_like(image) * (2 + 10 * noiseLevel);
            if (exposure < 1.0 / 3)
                image = image * Math.Pow(2, (gain < 0.5 ? -1 : 1) * (0.5 + gain % 0.5));
            copies.Add(image.clamp(0, 255));
        }
        return cat(copies, 0).MoveToOuterDisposeScope();
    }

    /// <summary>mean over the copies of max(0, log kappa(copy) - log kappa(source) + margin); norms [n, 1].</summary>
    public static Tensor Loss(Tensor sourceNorms, Tensor copyNorms, double margin)
    {
        using var scope = NewDisposeScope();
        var gap = copyNorms.clamp_min(1e-6).log() - sourceNorms.clamp_min(1e-6).log() + margin;
        return functional.relu(gap).mean().MoveToOuterDisposeScope();
    }

    private static Tensor Blur(Tensor image, double sigma)
    {
        int radius = Math.Max(1, (int)Math.Ceiling(2.5 * sigma));
        var taps = new float[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++)
            sum += taps[k + radius] = (float)Math.Exp(-k * k / (2 * sigma * sigma));
        for (int k = 0; k < taps.Length; k++)
            taps[k] = (float)(taps[k] / sum);
        // Separable and depthwise (one filter per colour), forward only: the data needs no gradient.
        var kernel = tensor(taps, device: image.device);
        var horizontal = kernel.view(1, 1, 1, -1).expand(3, 1, 1, taps.Length).contiguous();
        var vertical = kernel.view(1, 1, -1, 1).expand(3, 1, taps.Length, 1).contiguous();
        var padded = functional.pad(image, new long[] { radius, radius, radius, radius }, PaddingModes.Replicate);
        var x = functional.conv2d(padded, horizontal, groups: 3);
        return functional.conv2d(x, vertical, groups: 3);
    }

    private static Tensor Resample(Tensor image, int small)
    {
        long side = image.shape[2];
        var down = functional.interpolate(image, size: new long[] { small, small }, mode: InterpolationMode.Area);
        return functional.interpolate(down, size: new long[] { side, side }, mode: InterpolationMode.Bilinear, align_corners: false);
    }
}

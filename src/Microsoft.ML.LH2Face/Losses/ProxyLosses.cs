using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// The proxy losses of METHOD.md section 3 in the Proxy-Anchor form (Kim et al., CVPR 2020), with s(x, p) the cosine and the
/// proxies the rows of the head's W (shared with L_vMF). All three are written as log(1 + sum exp(.)) directly: the cosines
/// are clamped to [-1, 1], so with alpha = 32 and delta = 0.1 no exponent exceeds 35.2 and no float32 sum overflows
/// (e^35.2 x 10^6 terms is about 2e21).
/// </summary>
internal static class ProxyLosses
{
    /// <summary>
    /// L_pps = mean over proxies with a positive in the batch of log(1 + sum_pos exp(-alpha (s - delta))). The positives of
    /// proxy p are the samples labelled p, so only the target cosines [B, 1] are needed.
    /// </summary>
    public static Tensor PositiveSample(Tensor targetCosines, Tensor labels, long proxyCount, double alpha, double delta)
    {
        using var scope = NewDisposeScope();
        var e = (-alpha * (targetCosines.squeeze(1) - delta)).exp();
        var sums = zeros(proxyCount, e.dtype, e.device).index_add(0, labels, e, 1);
        var hasPositive = zeros(proxyCount, ScalarType.Bool, labels.device).index_fill(0, labels, true);
        return sums.log1p().masked_select(hasPositive).mean().MoveToOuterDisposeScope();
    }

    /// <summary>L_pns = mean over the (sampled) proxies of log(1 + sum_neg exp(alpha (s + delta))), cosines [B, C'].</summary>
    public static Tensor NegativeSample(Tensor cosines, Tensor labels, double alpha, double delta)
    {
        using var scope = NewDisposeScope();
        var positive = functional.one_hot(labels, cosines.shape[1]).to(ScalarType.Bool);
        var e = (alpha * (cosines + delta)).exp().masked_fill(positive, 0);
        return e.sum(0, keepdim: false).log1p().mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// L_pp = mean over the batch's proxies p of log(1 + sum_(q != p) exp(alpha (cos(p, q) + delta))), q over the (sampled)
    /// normalised proxy rows [C', d]; the batch's proxies are the rows its labels index.
    /// </summary>
    public static Tensor ProxyProxy(Tensor normalisedProxies, Tensor labels, double alpha, double delta)
    {
        using var scope = NewDisposeScope();
        long count = normalisedProxies.shape[0];
        var batchRows = zeros(count, ScalarType.Bool, labels.device).index_fill(0, labels, true).nonzero().squeeze(1);
        var cos = MarginHead.Cosines(normalisedProxies.index_select(0, batchRows), normalisedProxies);
        var self = functional.one_hot(batchRows, count).to(ScalarType.Bool);
        var e = (alpha * (cos + delta)).exp().masked_fill(self, 0);
        return e.sum(1, keepdim: false).log1p().mean().MoveToOuterDisposeScope();
    }
}

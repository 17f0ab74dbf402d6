using static TorchSharp.torch;

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

    /// <summary>
    /// L_pns = mean over the proxies of log(1 + sum_neg exp(alpha (s + delta))), cosines [B, C'] of the batch against the
    /// (sampled) proxies. With <paramref name="proxyWeights"/> [C'] the mean is weighted, sum_p w_p f_p / sum_p w_p: with w_p the
    /// inverse of the proxy's inclusion probability this is the Horvitz-Thompson estimate of the mean over every proxy (the
    /// weights sum to C), unbiased because the mean is linear in the per-proxy terms.
    /// </summary>
    public static Tensor NegativeSample(Tensor cosines, Tensor labels, double alpha, double delta, Tensor? proxyWeights = null)
    {
        using var scope = NewDisposeScope();
        // Zero the positive entries by a scatter: no [B, C'] mask is built (at 100k classes a one-hot is 100 MB).
        var e = (alpha * (cosines + delta)).exp();
        e = e.scatter(1, labels.unsqueeze(1), zeros(labels.shape[0], 1, e.dtype, e.device));
        var perProxy = e.sum(0, keepdim: false).log1p();
        var loss = proxyWeights is null ? perProxy.mean() : (perProxy * proxyWeights).sum() / proxyWeights.sum();
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// L_pp = mean over the batch's proxies p of log(1 + sum_(q != p) exp(alpha (cos(p, q) + delta))), q over the (sampled)
    /// proxy rows [C', d] with inverse norms [C'] (see <see cref="MarginHead.InverseNorms"/>); the batch's proxies are the rows
    /// its labels index. With <paramref name="proxyWeights"/> [C'] each exp term of q is multiplied by w_q: with w_q the inverse
    /// of q's inclusion probability the inner sum is the Horvitz-Thompson estimate of the sum over every proxy (unbiased), and
    /// its log a consistent estimate of the full term (biased low by at most Var / (2 (1 + sum over the batch's proxies)^2)).
    /// </summary>
    public static Tensor ProxyProxy(Tensor proxyRows, Tensor inverseNorms, Tensor labels, double alpha, double delta, Tensor? proxyWeights = null)
    {
        using var scope = NewDisposeScope();
        long count = proxyRows.shape[0];
        var batchRows = zeros(count, ScalarType.Bool, labels.device).index_fill(0, labels, true).nonzero().squeeze(1);
        var batchProxies = proxyRows.index_select(0, batchRows) * inverseNorms.index_select(0, batchRows).unsqueeze(1);
        var cos = MarginHead.Cosines(batchProxies, proxyRows, inverseNorms);
        var e = (alpha * (cos + delta)).exp();
        e = e.scatter(1, batchRows.unsqueeze(1), zeros(batchRows.shape[0], 1, e.dtype, e.device));
        if (proxyWeights is not null)
            e = e * proxyWeights.unsqueeze(0);
        return e.sum(1, keepdim: false).log1p().mean().MoveToOuterDisposeScope();
    }
}

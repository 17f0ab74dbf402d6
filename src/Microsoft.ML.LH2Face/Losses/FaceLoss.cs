using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>What one step's loss is made of: the total to back-propagate, each weighted term, and what the head did.</summary>
/// <param name="Total">Sum of the terms.</param>
/// <param name="Terms">Each term as it enters the total (weights applied), in a fixed order.</param>
/// <param name="MeanMargin">Mean over the batch of (scale x target cosine - target logit): the margin in logit units; null for a head without one.</param>
internal sealed record LossOutput(Tensor Total, IReadOnlyList<(string Name, Tensor Value)> Terms, Tensor? MeanMargin);

/// <summary>
/// L_FR of METHOD.md: the head's cross-entropy (L_vMF for the LH2Face head), the head's own terms (norm control), and the
/// proxy losses L_pps, L_pns, L_pp sharing the head's proxies, all over one Partial-FC sample of the classes (SampleRate), with
/// L_pns and L_pp on a further sub-sample (ProxySampleRate, automatic by default: see <see cref="ProxySampling"/>). Whenever
/// L_pns and L_pp see fewer than all classes, the classes outside the batch are weighted by the inverse of their inclusion
/// probability, so both estimate the losses over every class. The cosine matrix is computed once and shared by the head and
/// L_pns. The head is an injected piece, as insightface's Partial FC takes its margin head.
/// </summary>
internal sealed class FaceLoss
{
    private readonly double sampleRate;
    private readonly double proxySampleRate;
    private readonly int proxySampleMaxClasses;
    private readonly int proxySampleSize;
    private readonly double alpha;
    private readonly double delta;
    private readonly double positiveWeight;
    private readonly double negativeWeight;
    private readonly double proxyWeight;

    public FaceLoss(LossSettings loss)
    {
        sampleRate = loss.SampleRate;
        proxySampleRate = loss.Proxies.SampleRate;
        proxySampleMaxClasses = loss.Proxies.SampleMaxClasses;
        proxySampleSize = loss.Proxies.SampleSize;
        alpha = loss.Proxies.Alpha;
        delta = loss.Proxies.Delta;
        positiveWeight = loss.Proxies.PositiveSampleWeight;
        negativeWeight = loss.Proxies.NegativeSampleWeight;
        proxyWeight = loss.Proxies.ProxyProxyWeight;
    }

    /// <summary>The loss of embeddings x [B, d] with norms [B, 1] and labels [B] (class indices of the head).</summary>
    public LossOutput Compute(MarginHead head, Tensor embeddings, Tensor norms, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var (rows, sampledLabels) = PartialFcSampler.Sample(labels, head.ClassCount, sampleRate);
        var proxyRows = rows is null ? head.Proxies : head.Proxies.index_select(0, rows);
        var inverseNorms = MarginHead.InverseNorms(proxyRows);
        bool needCosines = head.UsesCosines || negativeWeight != 0;
        var cos = needCosines ? MarginHead.Cosines(embeddings, proxyRows, inverseNorms) : null;
        var logits = head.Logits(cos, embeddings, norms, sampledLabels, proxyRows);
        var targetCos = cos is not null
            ? cos.gather(1, sampledLabels.unsqueeze(1))
            : ((embeddings * proxyRows.index_select(0, sampledLabels)).sum(1, keepdim: true) * inverseNorms.index_select(0, sampledLabels).unsqueeze(1))
                .clamp(-1 + MarginHead.CosineEpsilon, 1 - MarginHead.CosineEpsilon);

        var terms = new List<(string Name, Tensor Value)> { ("cross_entropy", functional.cross_entropy(logits, sampledLabels)) };
        terms.AddRange(head.ExtraLosses(norms, targetCos));
        if (positiveWeight != 0)
            terms.Add(("proxy_pps", ProxyLosses.PositiveSample(targetCos, sampledLabels, proxyRows.shape[0], alpha, delta) * positiveWeight));
        if (negativeWeight != 0 || proxyWeight != 0)
        {
            // L_pns and L_pp see a sub-sample of the head's rows; it keeps every batch class.
            long headRows = proxyRows.shape[0];
            var (subRows, subLabels) = PartialFcSampler.SampleRows(sampledLabels, headRows, ProxySampling.Rows(proxySampleRate, proxySampleMaxClasses, proxySampleSize, sampleRate, headRows));
            var subCos = subRows is null || cos is null ? cos : cos.index_select(1, subRows);
            var subProxies = subRows is null ? proxyRows : proxyRows.index_select(0, subRows);
            var subInverseNorms = subRows is null ? inverseNorms : inverseNorms.index_select(0, subRows);
            var weights = ProxySampling.InverseInclusionWeights(subLabels, subProxies.shape[0], head.ClassCount, subProxies.dtype);
            if (negativeWeight != 0)
                terms.Add(("proxy_pns", ProxyLosses.NegativeSample(subCos!, subLabels, alpha, delta, weights) * negativeWeight));
            if (proxyWeight != 0)
                terms.Add(("proxy_pp", ProxyLosses.ProxyProxy(subProxies, subInverseNorms, subLabels, alpha, delta, weights) * proxyWeight));
        }

        var total = terms[0].Value;
        for (int i = 1; i < terms.Count; i++)
            total = total + terms[i].Value;

        Tensor? margin = null;
        using (no_grad())
        {
            var scale = head.LogitScale(norms);
            if (scale is not null)
                margin = (scale * targetCos - logits.gather(1, sampledLabels.unsqueeze(1))).mean();
        }

        // Each tensor moves out once: with a single term the total is that term's tensor, and a second move would take it
        // past the caller's scope, where it would keep the whole step's graph alive until a finalizer ran (measured: an
        // ArcFace run grew by the step's activations every step, 12 GB in 6 epochs at 64 px).
        var moved = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var value in terms.Select(t => t.Value).Prepend(total).Append(margin))
        {
            if (value is not null && moved.Add(value))
                value.MoveToOuterDisposeScope();
        }
        return new LossOutput(total, terms, margin);
    }
}

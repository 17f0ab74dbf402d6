using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// Which proxies L_pns and L_pp see, and how the sampled ones are weighted (METHOD.md section 3: "restrict to the batch's
/// proxies plus a sampled set of negatives"). Automatic (ProxySampleRate = 0): every proxy the head uses while there are at
/// most ProxySampleMaxClasses of them (exact where runs are small and cheap), above that the batch's proxies plus a uniform
/// sample of the others, ProxySampleSize rows in all, so the cost of the two terms stops growing with the class count
/// (L_pp is a [batch proxies x rows] product: with every proxy it costs as much as the head). An explicit rate keeps
/// ceil(rate x C) rows as before.
/// </summary>
internal static class ProxySampling
{
    /// <summary>The value of ProxySampleRate that selects the automatic sample.</summary>
    public const float Automatic = 0f;

    /// <summary>
    /// The rows (before adding batch classes the count leaves out) that L_pns and L_pp take from the <paramref name="headRows"/>
    /// proxies the head uses, which are ceil(SampleRate x C) of the C classes.
    /// </summary>
    public static long Rows(double proxySampleRate, int maxClasses, int size, double sampleRate, long headRows)
        => proxySampleRate == Automatic
            ? headRows <= maxClasses ? headRows : Math.Min(headRows, size)
            : PartialFcSampler.RowCount(proxySampleRate / Math.Min(sampleRate, 1.0), headRows);

    /// <summary>
    /// Weights [rows] of the proxies L_pns and L_pp see, given the labels re-indexed into them: 1 for the batch's classes (always
    /// kept), and (C - P) / (rows - P) for the others, the inverse of the probability (rows - P) / (C - P) with which uniform
    /// sampling without replacement (Partial FC, then the sub-sample: a uniform sample of a uniform sample) keeps each of the
    /// C - P classes outside the batch. Null when every class is kept or no class outside the batch is (nothing to weight).
    /// </summary>
    public static Tensor? InverseInclusionWeights(Tensor labels, long rows, long classCount, ScalarType dtype)
    {
        if (rows >= classCount)
            return null;
        using var scope = NewDisposeScope();
        var inBatch = zeros(rows, ScalarType.Bool, labels.device).index_fill(0, labels, true);
        long positives = inBatch.sum().item<long>();
        if (positives == rows)
            return null;
        double weight = (double)(classCount - positives) / (rows - positives);
        return full(rows, weight, dtype, labels.device).masked_fill(inBatch, 1.0).MoveToOuterDisposeScope();
    }
}

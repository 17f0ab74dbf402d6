using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// Partial-FC class-centre sampling (An et al., CVPR 2022): each step uses the proxies of every class in the batch plus random
/// other classes, max(ceil(rate x C), positives) rows in all, so logits and proxy losses scale with the sample, not with C.
/// The other classes are a uniform sample without replacement, so every class outside the batch is kept with the same
/// probability (rows - positives) / (C - positives); <see cref="FaceLoss"/> weights by its inverse.
/// Randomness comes from TorchSharp's generator, which the training loop reseeds per step (a resumed run samples the same).
/// </summary>
internal static class PartialFcSampler
{
    /// <summary>The rows a rate keeps of <paramref name="classCount"/> classes before adding batch classes: ceil(rate x C), at most C.</summary>
    public static long RowCount(double sampleRate, long classCount)
    {
        // Rounded first: a float option 0.3f is 0.30000001, and ceil(0.30000001 x 20) would be 7, not 6.
        long wanted = (long)Math.Ceiling(Math.Round(sampleRate * classCount, 4));
        return sampleRate >= 1 ? classCount : Math.Min(wanted, classCount);
    }

    /// <summary>The sampled proxy rows (ascending; null when every class is used) and the labels re-indexed into them.</summary>
    public static (Tensor? Rows, Tensor Labels) Sample(Tensor labels, long classCount, double sampleRate)
        => SampleRows(labels, classCount, RowCount(sampleRate, classCount));

    /// <summary>
    /// Every class of the batch plus a uniform sample of the others, max(<paramref name="rows"/>, positives) rows in all
    /// (ascending; null when that is every class), and the labels re-indexed into them.
    /// </summary>
    public static (Tensor? Rows, Tensor Labels) SampleRows(Tensor labels, long classCount, long rows)
    {
        if (rows >= classCount)
            return (null, labels);
        using var scope = NewDisposeScope();
        var positive = zeros(classCount, ScalarType.Bool, labels.device).index_fill(0, labels, true);
        long count = Math.Max(rows, positive.sum().item<long>());
        // Positives score 2, the rest uniform [0, 1): the top `count` are all positives plus a uniform sample of the others.
        var scores = rand(classCount, device: labels.device).masked_fill(positive, 2);
        var kept = scores.topk((int)count).indexes.sort().Values;
        var map = full(classCount, -1L, ScalarType.Int64, labels.device).index_copy(0, kept, arange(count, ScalarType.Int64, labels.device));
        var mapped = map.index_select(0, labels);
        return (kept.MoveToOuterDisposeScope(), mapped.MoveToOuterDisposeScope());
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// How well a per-image quality score (e.g. the embedding norm kappa) ranks images: the area under the
/// ROC of telling high- from low-quality images, and Spearman's rank correlation with a degradation
/// measure. Ties count half (AUC) and take their average rank (Spearman).
/// </summary>
public static class QualityRanking
{
    /// <summary>
    /// P(score of a random positive &gt; score of a random negative) + 0.5 P(equal): the Mann-Whitney U
    /// statistic over positives x negatives. 0.5 is chance, 1 a perfect ranking.
    /// </summary>
    public static double Auc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> positive)
    {
        if (scores.Length != positive.Length)
            throw new ArgumentException($"scores and positive must have one length (got {scores.Length} and {positive.Length}).", nameof(positive));
        var ranks = AverageRanks(ToDoubles(scores));
        double positiveRankSum = 0;
        long positives = 0;
        for (int i = 0; i < ranks.Length; i++)
        {
            if (positive[i])
            {
                positiveRankSum += ranks[i];
                positives++;
            }
        }
        long negatives = ranks.Length - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException($"The AUC needs positive and negative items (got {positives} and {negatives}).", nameof(positive));
        // Ranks start at 1: U = rank sum of positives - P (P + 1) / 2.
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Spearman's rank correlation: Pearson's correlation of the average ranks. NaN when either side is constant.</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"x and y must have one length (got {x.Length} and {y.Length}).", nameof(y));
        if (x.Length < 2)
            throw new ArgumentException("Spearman's correlation needs at least 2 items.", nameof(x));
        var rx = AverageRanks(x.ToArray());
        var ry = AverageRanks(y.ToArray());
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Ranks 1..n, ties given the mean of the ranks they span.</summary>
    public static double[] AverageRanks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).ToArray();
        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
        var ranks = new double[values.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]].CompareTo(values[order[start]]) == 0)
                end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
                ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    private static double[] ToDoubles(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = values[i];
        return result;
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>A difference of a verification metric (method minus baseline) with its bootstrap standard deviation.</summary>
/// <param name="Difference">Mean over the method's seeds minus mean over the baseline's seeds, on the pairs as given.</param>
/// <param name="StandardDeviation">Standard deviation of that difference over the bootstrap replicates.</param>
/// <param name="Replicates">Number of replicates.</param>
public sealed record BootstrapDifference(double Difference, double StandardDeviation, int Replicates);

/// <summary>
/// The paired bootstrap of verification metrics over test pairs: each replicate redraws the genuine
/// pairs and, separately, the impostor pairs with replacement (so both counts stay fixed), and scores
/// the SAME redrawn pairs with every model, so the spread is that of the test set and the difference
/// keeps the pairing. With several training seeds per method, each side is the mean over its seeds.
/// </summary>
public static class PairedBootstrap
{
    /// <summary>Equal error rate.</summary>
    public static Func<RocCurve, double> Eer { get; } = roc => VerificationMetrics.EqualErrorRate(roc).Eer;

    /// <summary>TAR at the ROC point nearest <paramref name="far"/> (as <see cref="VerificationMetrics.TarAtFars"/> reads it).</summary>
    public static Func<RocCurve, double> TarAt(double far) => roc => roc.TrueAcceptRate(roc.NearestIndex(far));

    /// <summary>
    /// The difference of each metric, method minus baseline, with its bootstrap standard deviation.
    /// </summary>
    /// <param name="method">The method's scores of the pairs, one array per training seed.</param>
    /// <param name="baseline">The baseline's scores of the same pairs, one array per training seed.</param>
    /// <param name="isGenuine">Whether each pair is genuine.</param>
    /// <param name="metrics">Metrics read from a ROC (see <see cref="Eer"/> and <see cref="TarAt"/>).</param>
    /// <param name="replicates">Bootstrap replicates (e.g. 1000).</param>
    /// <param name="seed">Seed of the resampling.</param>
    public static IReadOnlyList<BootstrapDifference> Differences(IReadOnlyList<float[]> method, IReadOnlyList<float[]> baseline, ReadOnlySpan<bool> isGenuine,
        IReadOnlyList<Func<RocCurve, double>> metrics, int replicates, int seed)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(metrics);
        if (method.Count == 0 || baseline.Count == 0)
            throw new ArgumentException("Each side needs the scores of at least one training seed.", method.Count == 0 ? nameof(method) : nameof(baseline));
        if (replicates < 2)
            throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "The bootstrap needs at least 2 replicates.");
        foreach (var scores in method.Concat(baseline))
        {
            if (scores.Length != isGenuine.Length)
                throw new ArgumentException($"Every score array must have one score per pair ({isGenuine.Length}); got {scores.Length}.", nameof(method));
        }
        var genuine = new List<int>();
        var impostor = new List<int>();
        for (int i = 0; i < isGenuine.Length; i++)
            (isGenuine[i] ? genuine : impostor).Add(i);
        if (genuine.Count == 0 || impostor.Count == 0)
            throw new ArgumentException($"The pairs must hold genuine and impostor pairs (got {genuine.Count} and {impostor.Count}).", nameof(isGenuine));

        var labels = isGenuine.ToArray();
        var full = Difference(method, baseline, Enumerable.Range(0, labels.Length).ToArray(), labels, metrics);
        var samples = new double[metrics.Count][];
        for (int m = 0; m < metrics.Count; m++)
            samples[m] = new double[replicates];
        var rng = new StableRandom(seed, 0x626f6f74);
        var rows = new int[labels.Length];
        var drawnLabels = new bool[labels.Length];
        for (int r = 0; r < replicates; r++)
        {
            int k = 0;
            foreach (var group in new[] { genuine, impostor })
            {
                for (int i = 0; i < group.Count; i++, k++)
                {
                    rows[k] = group[rng.Next(group.Count)];
                    drawnLabels[k] = labels[rows[k]];
                }
            }
            var d = Difference(method, baseline, rows, drawnLabels, metrics);
            for (int m = 0; m < metrics.Count; m++)
                samples[m][r] = d[m];
        }
        return Enumerable.Range(0, metrics.Count).Select(m => new BootstrapDifference(full[m], StandardDeviation(samples[m]), replicates)).ToList();
    }

    private static double[] Difference(IReadOnlyList<float[]> method, IReadOnlyList<float[]> baseline, int[] rows, bool[] labels, IReadOnlyList<Func<RocCurve, double>> metrics)
    {
        var a = MeanOverSeeds(method, rows, labels, metrics);
        var b = MeanOverSeeds(baseline, rows, labels, metrics);
        return a.Zip(b, (x, y) => x - y).ToArray();
    }

    private static double[] MeanOverSeeds(IReadOnlyList<float[]> runs, int[] rows, bool[] labels, IReadOnlyList<Func<RocCurve, double>> metrics)
    {
        var mean = new double[metrics.Count];
        var drawn = new float[rows.Length];
        foreach (var scores in runs)
        {
            for (int i = 0; i < rows.Length; i++)
                drawn[i] = scores[rows[i]];
            var roc = RocCurve.Compute(drawn, labels);
            for (int m = 0; m < metrics.Count; m++)
                mean[m] += metrics[m](roc) / runs.Count;
        }
        return mean;
    }

    /// <summary>Sample standard deviation (n - 1).</summary>
    public static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
            return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}

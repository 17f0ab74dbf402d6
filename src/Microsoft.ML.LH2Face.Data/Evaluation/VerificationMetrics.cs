namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// 1:1 verification metrics from (score, isGenuine) pairs: ROC, TAR@FAR, EER, best accuracy.
/// Inputs with no genuine or no impostor pair are refused with an <see cref="ArgumentException"/>
/// (TAR or FAR would be 0/0).
/// </summary>
public static class VerificationMetrics
{
    /// <summary>The target FARs every report carries: 1e-6 .. 1e-1.</summary>
    public static IReadOnlyList<double> StandardFars { get; } = new[] { 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1 };

    /// <summary>Computes every verification metric of a set of scored pairs.</summary>
    /// <param name="scores">Similarity scores (higher = more alike).</param>
    /// <param name="isGenuine">Whether each pair is of one identity.</param>
    /// <param name="targetFars">FARs to read TAR at; <see cref="StandardFars"/> when null.</param>
    public static VerificationResult Evaluate(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isGenuine, IReadOnlyList<double>? targetFars = null)
    {
        var roc = RocCurve.Compute(scores, isGenuine);
        var tars = TarAtFars(roc, targetFars ?? StandardFars);
        var (eer, eerThreshold) = EqualErrorRate(roc);
        var (accuracy, threshold) = BestAccuracy(roc);
        return new VerificationResult(roc.GenuineCount, roc.ImpostorCount, roc, tars, eer, eerThreshold, accuracy, threshold,
            ScoreHistogram.Compute(scores, isGenuine));
    }

    /// <summary>
    /// TAR at each target FAR, read as insightface's IJB evaluation does: at the ROC point whose FAR is
    /// nearest the target (no interpolation).
    /// </summary>
    /// <param name="roc">The ROC.</param>
    /// <param name="targetFars">Target FARs, each in [0, 1].</param>
    public static IReadOnlyList<TarAtFar> TarAtFars(RocCurve roc, IReadOnlyList<double> targetFars)
    {
        ArgumentNullException.ThrowIfNull(roc);
        ArgumentNullException.ThrowIfNull(targetFars);
        var result = new TarAtFar[targetFars.Count];
        for (int k = 0; k < result.Length; k++)
        {
            double target = targetFars[k];
            if (!(target >= 0 && target <= 1))
                throw new ArgumentOutOfRangeException(nameof(targetFars), target, "Each target FAR must lie in [0, 1].");
            int i = roc.NearestIndex(target);
            result[k] = new TarAtFar(target, roc.TrueAcceptRate(i), roc.FalseAcceptRate(i), roc.Thresholds[i],
                IsBelowResolution: target < 1.0 / roc.ImpostorCount);
        }
        return result;
    }

    /// <summary>Equal error rate and the threshold of the first ROC point with FAR &gt;= FRR.</summary>
    /// <param name="roc">The ROC.</param>
    public static (double Eer, float Threshold) EqualErrorRate(RocCurve roc)
    {
        ArgumentNullException.ThrowIfNull(roc);
        // g = FAR - FRR rises from -1 at (0, 0) to +1 at (1, 1); find its first non-negative point, deciding
        // the sign on the integer counts (FA * P >= FR * N) so that exact crossings are not lost to rounding.
        long p = roc.GenuineCount, n = roc.ImpostorCount;
        double previous = -1;
        for (int i = 0; i < roc.Count; i++)
        {
            double far = roc.FalseAcceptRate(i);
            double g = far - (1 - roc.TrueAcceptRate(i));
            if (roc.FalseAccepts(i) * p >= (p - roc.TrueAccepts(i)) * n)
            {
                if (i == 0)
                    return (far, roc.Thresholds[i]);
                double s = g <= 0 ? 1 : -previous / (g - previous);
                double farBefore = roc.FalseAcceptRate(i - 1);
                return (farBefore + s * (far - farBefore), roc.Thresholds[i]);
            }
            previous = g;
        }
        return (1, roc.Thresholds[roc.Count - 1]);
    }

    /// <summary>The best accuracy over the ROC thresholds and its threshold.</summary>
    /// <param name="roc">The ROC.</param>
    public static (double Accuracy, float Threshold) BestAccuracy(RocCurve roc)
    {
        ArgumentNullException.ThrowIfNull(roc);
        long best = -1;
        int bestIndex = 0;
        for (int i = 0; i < roc.Count; i++)
        {
            long correct = roc.TrueAccepts(i) + (roc.ImpostorCount - roc.FalseAccepts(i));
            if (correct > best)
            {
                best = correct;
                bestIndex = i;
            }
        }
        return ((double)best / (roc.GenuineCount + roc.ImpostorCount), roc.Thresholds[bestIndex]);
    }
}

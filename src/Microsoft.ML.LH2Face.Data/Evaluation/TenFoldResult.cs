namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>Result of the k-fold accuracy protocol of the .bin verification sets.</summary>
/// <param name="AccuracyMean">Mean of the held-out fold accuracies.</param>
/// <param name="AccuracyStd">Population standard deviation of the fold accuracies (numpy's np.std).</param>
/// <param name="FoldAccuracies">Accuracy of each held-out fold.</param>
/// <param name="FoldThresholds">Squared-distance threshold chosen on the other folds, per fold (same pair when distance &lt; threshold).</param>
/// <param name="ValMean">Mean VAL (TAR) at the threshold whose training FAR reaches <paramref name="ValTargetFar"/>.</param>
/// <param name="ValStd">Population standard deviation of VAL over the folds.</param>
/// <param name="FarMean">Mean held-out FAR at those thresholds.</param>
/// <param name="ValTargetFar">The FAR target of VAL (1e-3 in insightface).</param>
public sealed record TenFoldResult(
    double AccuracyMean,
    double AccuracyStd,
    IReadOnlyList<double> FoldAccuracies,
    IReadOnlyList<double> FoldThresholds,
    double ValMean,
    double ValStd,
    double FarMean,
    double ValTargetFar)
{
    /// <summary>Mean of the per-fold thresholds (insightface's reported "best threshold").</summary>
    public double ThresholdMean => FoldThresholds.Average();
}

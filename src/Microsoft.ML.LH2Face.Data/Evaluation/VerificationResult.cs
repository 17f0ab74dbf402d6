namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>1:1 verification metrics of one set of scored pairs.</summary>
/// <param name="GenuineCount">Number of genuine pairs.</param>
/// <param name="ImpostorCount">Number of impostor pairs.</param>
/// <param name="Roc">The ROC (scikit-learn construction, intermediate collinear points dropped).</param>
/// <param name="TarAtFar">TAR read at each target FAR, at the ROC point nearest the target.</param>
/// <param name="Eer">Equal error rate: where FAR = 1 - TAR, linear between the two ROC points that bracket it.</param>
/// <param name="EerThreshold">Threshold of the first ROC point whose FAR is at least its FRR.</param>
/// <param name="BestAccuracy">Highest (true accepts + true rejects) / pairs over all ROC thresholds.</param>
/// <param name="BestThreshold">Threshold reaching <paramref name="BestAccuracy"/> (accept when score &gt;= it).</param>
/// <param name="Histogram">Score histogram of both classes.</param>
public sealed record VerificationResult(
    long GenuineCount,
    long ImpostorCount,
    RocCurve Roc,
    IReadOnlyList<TarAtFar> TarAtFar,
    double Eer,
    float EerThreshold,
    double BestAccuracy,
    float BestThreshold,
    ScoreHistogram Histogram);

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>A true accept rate read at a target false accept rate.</summary>
/// <param name="TargetFar">The requested false accept rate.</param>
/// <param name="Tar">True accept rate at the ROC point read (the point nearest the target FAR).</param>
/// <param name="Far">The false accept rate of that point (what was achieved, not what was asked).</param>
/// <param name="Threshold">Score threshold of that point (accept when score &gt;= threshold).</param>
/// <param name="IsBelowResolution">True when the target is below 1 / #impostors: no threshold can reach
/// it, the value is the one at the nearest achievable point and should be reported with that caveat.</param>
public sealed record TarAtFar(double TargetFar, double Tar, double Far, float Threshold, bool IsBelowResolution);

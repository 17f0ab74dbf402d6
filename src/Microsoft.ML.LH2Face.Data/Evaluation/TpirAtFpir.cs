namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>Open-set identification rate at a false positive identification rate.</summary>
/// <param name="TargetFpir">Requested FPIR.</param>
/// <param name="Tpir">Fraction of mated probes whose true identity ranks first with a score above the threshold.</param>
/// <param name="Fpir">Achieved FPIR: fraction of non-mated probes whose top score is above the threshold.</param>
/// <param name="Threshold">Score threshold (a candidate is returned when its score &gt; threshold).</param>
/// <param name="IsBelowResolution">True when the target is below 1 / #non-mated probes (then FPIR is 0).</param>
public sealed record TpirAtFpir(double TargetFpir, double Tpir, double Fpir, float Threshold, bool IsBelowResolution);

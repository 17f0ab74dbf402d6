namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>1:N identification metrics.</summary>
/// <param name="MatedProbeCount">Probes whose identity is in the gallery.</param>
/// <param name="NonMatedProbeCount">Probes whose identity is not in the gallery (they count for FPIR only).</param>
/// <param name="Rank1">Closed-set rank-1 identification rate over mated probes.</param>
/// <param name="Rank5">Closed-set rank-5 identification rate over mated probes.</param>
/// <param name="TpirAtFpir">Open-set TPIR at each target FPIR (NaN TPIR when there is no non-mated probe).</param>
public sealed record IdentificationResult(int MatedProbeCount, int NonMatedProbeCount, double Rank1, double Rank5, IReadOnlyList<TpirAtFpir> TpirAtFpir);

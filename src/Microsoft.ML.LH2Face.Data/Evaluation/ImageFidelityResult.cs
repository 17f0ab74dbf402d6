namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>PSNR of a set of rendered images against their ground truth.</summary>
/// <param name="Images">Number of images.</param>
/// <param name="MeanPsnr">Mean of the per-image PSNRs in dB.</param>
/// <param name="MedianPsnr">Median of the per-image PSNRs in dB.</param>
public sealed record ImageFidelityResult(int Images, double MeanPsnr, double MedianPsnr);

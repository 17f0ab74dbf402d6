namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>One verification pair: two encoded images and whether they show the same person.</summary>
/// <param name="ImageA">Encoded bytes of the first image (bins[2k]).</param>
/// <param name="ImageB">Encoded bytes of the second image (bins[2k + 1]).</param>
/// <param name="IsSame">Whether both images show the same identity (issame[k]).</param>
public sealed record VerificationPair(byte[] ImageA, byte[] ImageB, bool IsSame);

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>A 1:1 verification pair of test-set images, named by (identity, sample).</summary>
/// <param name="IdentityA">Identity of the first image.</param>
/// <param name="SampleA">Sample index of the first image.</param>
/// <param name="IdentityB">Identity of the second image.</param>
/// <param name="SampleB">Sample index of the second image.</param>
/// <param name="Kind">Genuine, impostor or look-alike impostor.</param>
/// <param name="Stratum">The pair's stratum.</param>
public sealed record SynthFaceVerificationPair(int IdentityA, int SampleA, int IdentityB, int SampleB, SynthFacePairKind Kind, SynthFaceStratum Stratum)
{
    /// <summary>True for a genuine pair.</summary>
    public bool IsSame => Kind == SynthFacePairKind.Genuine;
}

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Hardness label of a SynthFace sample. Hard when |yaw| &gt;= <see cref="SynthFaceFactors.HardYaw"/>,
/// |pitch| &gt;= <see cref="SynthFaceFactors.HardPitch"/>, any expression intensity
/// &gt;= <see cref="SynthFaceFactors.HardExpression"/>, or an occluder is present; easy otherwise.
/// </summary>
public enum SynthFaceHardness
{
    /// <summary>Near-frontal, mild expression, no occluder.</summary>
    Easy,
    /// <summary>Large pose, strong expression or occluded.</summary>
    Hard,
}

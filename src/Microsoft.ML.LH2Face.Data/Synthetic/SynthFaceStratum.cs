namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Stratum of a verification pair: <see cref="LQ"/> when either image is low quality, else
/// <see cref="HardHQ"/> when either image is hard, else <see cref="EasyHQ"/>.
/// </summary>
public enum SynthFaceStratum
{
    /// <summary>Both images high quality and easy.</summary>
    EasyHQ,
    /// <summary>Both images high quality, at least one hard.</summary>
    HardHQ,
    /// <summary>At least one image low quality.</summary>
    LQ,
}

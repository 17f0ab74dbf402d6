namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>Image quality label of a SynthFace sample.</summary>
public enum SynthFaceQuality
{
    /// <summary>High quality: no degradation was applied.</summary>
    HQ,
    /// <summary>Low quality: at least one degradation (blur, down-then-up sampling) and possibly noise, JPEG, exposure.</summary>
    LQ,
}

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>Kind of a verification pair.</summary>
public enum SynthFacePairKind
{
    /// <summary>Two images of the same identity.</summary>
    Genuine,
    /// <summary>Two unrelated identities.</summary>
    Impostor,
    /// <summary>An identity and its look-alike (twin).</summary>
    LookAlikeImpostor,
}

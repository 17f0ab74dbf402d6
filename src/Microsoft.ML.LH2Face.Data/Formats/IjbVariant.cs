namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>Which IJB benchmark a meta folder belongs to; it sets the file prefix (ijbb_ or ijbc_).</summary>
public enum IjbVariant
{
    /// <summary>IJB-B: files meta/ijbb_*.txt.</summary>
    IjbB,

    /// <summary>IJB-C: files meta/ijbc_*.txt.</summary>
    IjbC,
}

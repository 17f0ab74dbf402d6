namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>Options of a <see cref="SynthFaceGenerator"/>: which people, and how their images vary.</summary>
public sealed class SynthFaceOptions
{
    /// <summary>Seed of the identity set and of every image factor; different seeds give disjoint people.</summary>
    public int Seed = 1;

    /// <summary>Side of the square output images in pixels (the 5 landmarks follow the ArcFace template scaled by Size/112).</summary>
    public int ImageSize = FaceTemplate.Size;

    /// <summary>Share of identities that are look-alikes (perturbed twins) of an earlier identity.</summary>
    public double LookAlikeRate = 0.1;

    /// <summary>
    /// Standard deviation of a look-alike's trait perturbation, in unit trait values (two random people
    /// differ by about 0.41 per trait). Smaller = closer twins = harder look-alike impostor pairs.
    /// </summary>
    public double LookAlikeSpread = SynthFaceIdentity.DefaultLookAlikeSpread;

    /// <summary>Share of images drawn from the hard distribution (large pose or strong expression).</summary>
    public double HardRate = 0.5;

    /// <summary>Share of images with an occluder (hand, mask, sunglasses); occluded images are hard.</summary>
    public double OccluderRate = 0.1;

    /// <summary>Share of images that are degraded to low quality.</summary>
    public double LowQualityRate = 0.3;

    /// <summary>Images per session (medium): the images of one session share lighting and background.</summary>
    public int ImagesPerSession = 4;

    /// <summary>How many identities' meshes and textures are kept (each about 1.6 MB).</summary>
    public int IdentityCacheSize = 64;

    /// <summary>Throws when an option is out of range, naming it and the fix.</summary>
    public void Validate()
    {
        if (ImageSize is < 32 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "SynthFaceOptions.ImageSize must be in 32..1024 (112 for the ArcFace template).");
        CheckRate(LookAlikeRate, nameof(LookAlikeRate));
        if (LookAlikeSpread is < 0 or > 1 || double.IsNaN(LookAlikeSpread))
            throw new ArgumentOutOfRangeException(nameof(LookAlikeSpread), LookAlikeSpread, "SynthFaceOptions.LookAlikeSpread must be in [0, 1] (unit trait values).");
        CheckRate(HardRate, nameof(HardRate));
        CheckRate(OccluderRate, nameof(OccluderRate));
        CheckRate(LowQualityRate, nameof(LowQualityRate));
        if (ImagesPerSession < 1)
            throw new ArgumentOutOfRangeException(nameof(ImagesPerSession), ImagesPerSession, "SynthFaceOptions.ImagesPerSession must be 1 or more.");
        if (IdentityCacheSize < 1)
            throw new ArgumentOutOfRangeException(nameof(IdentityCacheSize), IdentityCacheSize, "SynthFaceOptions.IdentityCacheSize must be 1 or more.");
    }

    /// <summary>A copy of these options.</summary>
    public SynthFaceOptions Clone() => (SynthFaceOptions)MemberwiseClone();

    private static void CheckRate(double value, string name)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
            throw new ArgumentOutOfRangeException(name, value, $"SynthFaceOptions.{name} must be a probability in [0, 1].");
    }
}

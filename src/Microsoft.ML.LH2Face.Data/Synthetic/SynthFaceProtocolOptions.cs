namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Sizes of the SynthFace benchmark. Train and test identities come from different seeds, so the sets are
/// disjoint. Presets: <see cref="Small"/> (a 2-core CPU trains and evaluates in about 20 minutes) and
/// <see cref="Full"/>.
/// </summary>
public sealed class SynthFaceProtocolOptions
{
    /// <summary>Image factors shared by train and test (rates, image size); its seed is replaced by the two below.</summary>
    public SynthFaceOptions Generator = new();

    /// <summary>Seed of the training identities.</summary>
    public int TrainSeed = 1;

    /// <summary>Seed of the test identities; must differ from <see cref="TrainSeed"/>.</summary>
    public int TestSeed = 1_000_003;

    /// <summary>Number of training identities.</summary>
    public int TrainIdentities = 200;

    /// <summary>Images per training identity.</summary>
    public int TrainImagesPerIdentity = 20;

    /// <summary>Number of test identities.</summary>
    public int TestIdentities = 100;

    /// <summary>Images per test identity.</summary>
    public int TestImagesPerIdentity = 20;

    /// <summary>Verification pairs per stratum: half of them genuine; the other half impostors unless <see cref="ImpostorPairsPerStratum"/> is set.</summary>
    public int PairsPerStratum = 600;

    /// <summary>
    /// Impostor pairs per stratum; 0 = PairsPerStratum / 2 (balanced). TAR at FAR = f can only be read
    /// with at least 1/f impostors, and impostor pairs reuse the same test images, so they cost no rendering.
    /// </summary>
    public int ImpostorPairsPerStratum;

    /// <summary>Look-alike impostor pairs per stratum, as a share of PairsPerStratum / 2 (when the test set has look-alikes).</summary>
    public double LookAlikeImpostorShare = 0.3;

    /// <summary>Templates per test identity.</summary>
    public int TemplatesPerIdentity = 2;

    /// <summary>Media (sessions) per template.</summary>
    public int MediaPerTemplate = 2;

    /// <summary>Images taken from each medium of a template (at most the session's size).</summary>
    public int ImagesPerMedia = 2;

    /// <summary>Impostor template pairs per genuine template pair.</summary>
    public int TemplateImpostorsPerGenuine = 10;

    /// <summary>The small preset: 200 x 20 training images, 100 x 20 test images, 300 genuine and 5000 impostor pairs per stratum.</summary>
    public static SynthFaceProtocolOptions Small() => new() { ImpostorPairsPerStratum = 5000 };

    /// <summary>
    /// The tiny preset, a smoke-test size (seconds, not minutes; too noisy to compare losses): 20 x 8 training
    /// images, 12 x 16 test images, 30 pairs per stratum (15 genuine, 15 impostor).
    /// </summary>
    public static SynthFaceProtocolOptions Tiny() => new()
    {
        TrainIdentities = 20,
        TrainImagesPerIdentity = 8,
        TestIdentities = 12,
        TestImagesPerIdentity = 16,
        PairsPerStratum = 30,
    };

    /// <summary>The full preset: 5000 x 40 training images, 1000 x 24 test images, 3000 pairs per stratum, 3 media per template.</summary>
    public static SynthFaceProtocolOptions Full() => new()
    {
        TrainIdentities = 5000,
        TrainImagesPerIdentity = 40,
        TestIdentities = 1000,
        TestImagesPerIdentity = 24,
        PairsPerStratum = 3000,
        ImpostorPairsPerStratum = 30000,
        MediaPerTemplate = 3,
    };

    /// <summary>
    /// Throws unless the templates fit in <paramref name="imagesPerIdentity"/> images per scored identity
    /// (TemplatesPerIdentity x MediaPerTemplate sessions at most), naming <paramref name="imagesOption"/> in the fix.
    /// </summary>
    internal void CheckTemplates(int imagesPerIdentity, string imagesOption)
    {
        int sessions = (imagesPerIdentity + Generator.ImagesPerSession - 1) / Generator.ImagesPerSession;
        if (TemplatesPerIdentity < 1 || MediaPerTemplate < 1 || ImagesPerMedia < 1 || TemplatesPerIdentity * MediaPerTemplate > sessions)
            throw new ArgumentOutOfRangeException(nameof(TemplatesPerIdentity),
                $"SynthFaceProtocolOptions: TemplatesPerIdentity x MediaPerTemplate ({TemplatesPerIdentity} x {MediaPerTemplate}) must be 1..{sessions}, the sessions " +
                $"in {imagesPerIdentity} images of a scored identity ({Generator.ImagesPerSession} per session); raise {imagesOption} or lower them.");
    }

    /// <summary>Throws when the sizes are inconsistent, naming the option and the fix.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Generator, nameof(Generator));
        Generator.Validate();
        if (TrainSeed == TestSeed)
            throw new ArgumentException("SynthFaceProtocolOptions.TestSeed must differ from TrainSeed so that train and test identities are disjoint.", nameof(TestSeed));
        if (TrainIdentities < 2 || TestIdentities < 2)
            throw new ArgumentOutOfRangeException(nameof(TestIdentities), "SynthFaceProtocolOptions needs at least 2 train and 2 test identities.");
        if (TrainImagesPerIdentity < 1 || TestImagesPerIdentity < 2)
            throw new ArgumentOutOfRangeException(nameof(TestImagesPerIdentity), "SynthFaceProtocolOptions needs at least 1 image per train identity and 2 per test identity.");
        if (PairsPerStratum < 2)
            throw new ArgumentOutOfRangeException(nameof(PairsPerStratum), PairsPerStratum, "SynthFaceProtocolOptions.PairsPerStratum must be 2 or more.");
        if (ImpostorPairsPerStratum < 0)
            throw new ArgumentOutOfRangeException(nameof(ImpostorPairsPerStratum), ImpostorPairsPerStratum, "SynthFaceProtocolOptions.ImpostorPairsPerStratum must be 0 (balanced) or more.");
        if (LookAlikeImpostorShare is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(LookAlikeImpostorShare), LookAlikeImpostorShare, "SynthFaceProtocolOptions.LookAlikeImpostorShare must be in [0, 1].");
        CheckTemplates(TestImagesPerIdentity, nameof(TestImagesPerIdentity));
        if (TemplateImpostorsPerGenuine < 0)
            throw new ArgumentOutOfRangeException(nameof(TemplateImpostorsPerGenuine), "SynthFaceProtocolOptions.TemplateImpostorsPerGenuine must be 0 or more.");
    }

    /// <summary>A copy (the generator options copied too).</summary>
    public SynthFaceProtocolOptions Clone()
    {
        var c = (SynthFaceProtocolOptions)MemberwiseClone();
        c.Generator = Generator.Clone();
        return c;
    }
}

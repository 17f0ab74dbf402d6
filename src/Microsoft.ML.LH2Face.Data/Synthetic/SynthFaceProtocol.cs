namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// The SynthFace benchmark: a training set, and on a disjoint test set (another seed) verification pairs
/// stratified into easy-HQ, hard-HQ and LQ (genuine, random impostor and look-alike impostor pairs) and an
/// IJB-style template protocol. Pairs are chosen from the image factors alone (no rendering), deterministically
/// from the test seed.
/// </summary>
public sealed class SynthFaceProtocol
{
    private SynthFaceProtocol(SynthFaceProtocolOptions options, List<SynthFaceVerificationPair> pairs, List<SynthFaceTemplate> templates, List<SynthFaceTemplatePair> templatePairs)
    {
        Options = options;
        Pairs = pairs;
        Templates = templates;
        TemplatePairs = templatePairs;
    }

    /// <summary>The sizes this protocol was built with (a copy).</summary>
    public SynthFaceProtocolOptions Options { get; }

    /// <summary>Verification pairs, stratum by stratum (EasyHQ, HardHQ, LQ).</summary>
    public IReadOnlyList<SynthFaceVerificationPair> Pairs { get; }

    /// <summary>Templates of the test identities.</summary>
    public IReadOnlyList<SynthFaceTemplate> Templates { get; }

    /// <summary>Template pairs: every genuine pair, then the impostors.</summary>
    public IReadOnlyList<SynthFaceTemplatePair> TemplatePairs { get; }

    /// <summary>Generator options of the training set.</summary>
    public SynthFaceOptions TrainOptions { get { var o = Options.Generator.Clone(); o.Seed = Options.TrainSeed; return o; } }

    /// <summary>Generator options of the test set.</summary>
    public SynthFaceOptions TestOptions { get { var o = Options.Generator.Clone(); o.Seed = Options.TestSeed; return o; } }

    /// <summary>The stratum of a pair of images.</summary>
    public static SynthFaceStratum StratumOf(SynthFaceFactors a, SynthFaceFactors b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Quality == SynthFaceQuality.LQ || b.Quality == SynthFaceQuality.LQ) return SynthFaceStratum.LQ;
        return a.Hardness == SynthFaceHardness.Hard || b.Hardness == SynthFaceHardness.Hard ? SynthFaceStratum.HardHQ : SynthFaceStratum.EasyHQ;
    }

    /// <summary>Builds the protocol for <paramref name="options"/> (validated and copied).</summary>
    public static SynthFaceProtocol Create(SynthFaceProtocolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();
        return Build(options);
    }

    /// <summary>
    /// A validation protocol drawn from the TRAINING identities, for choosing settings without touching
    /// the test identities: its pairs (and templates) are among the first <paramref name="identities"/>
    /// training identities (train seed, all <see cref="SynthFaceProtocolOptions.TrainImagesPerIdentity"/>
    /// images of each, stratified and sized as the test protocol), so a run tuned on it must train on
    /// identities <paramref name="identities"/> and up only. In the result, TestSeed is the train seed,
    /// TestIdentities is <paramref name="identities"/> and TrainSeed is unchanged.
    /// </summary>
    public static SynthFaceProtocol CreateValidation(SynthFaceProtocolOptions options, int identities)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();
        if (identities < 2 || identities > options.TrainIdentities - 2)
            throw new ArgumentOutOfRangeException(nameof(identities), identities,
                $"A validation split needs 2 to {options.TrainIdentities - 2} of the {options.TrainIdentities} training identities (at least 2 must remain to train on).");
        // The held-out identities are scored on their training images: the templates must fit in those.
        options.CheckTemplates(options.TrainImagesPerIdentity, nameof(SynthFaceProtocolOptions.TrainImagesPerIdentity));
        options.TestSeed = options.TrainSeed;
        options.TestIdentities = identities;
        options.TestImagesPerIdentity = options.TrainImagesPerIdentity;
        return Build(options);
    }

    private static SynthFaceProtocol Build(SynthFaceProtocolOptions options)
    {
        var testOptions = options.Generator.Clone();
        testOptions.Seed = options.TestSeed;
        var generator = new SynthFaceGenerator(testOptions);
        int n = options.TestIdentities, m = options.TestImagesPerIdentity;
        var factors = new SynthFaceFactors[n][];
        for (int i = 0; i < n; i++)
        {
            factors[i] = new SynthFaceFactors[m];
            for (int s = 0; s < m; s++) factors[i][s] = generator.DrawFactors(i, s);
        }
        var root = new int[n];
        var lookAlikes = new List<(int, int)>();
        for (int i = 0; i < n; i++)
        {
            int? of = generator.GetIdentity(i).LookAlikeOf;
            root[i] = of is int j ? root[j] : i;
            if (of is int k) lookAlikes.Add((i, k));
        }
        var rng = new StableRandom(options.TestSeed, 4);
        var pairs = new List<SynthFaceVerificationPair>();
        foreach (var stratum in Enum.GetValues<SynthFaceStratum>())
            AddPairs(pairs, stratum, options, factors, root, lookAlikes, ref rng);
        var (templates, templatePairs) = BuildTemplates(options, root, lookAlikes, ref rng);
        return new SynthFaceProtocol(options, pairs, templates, templatePairs);
    }

    // Roles per stratum: the first image decides the stratum, the second must keep it.
    private static bool First(SynthFaceStratum stratum, SynthFaceFactors f) => stratum switch
    {
        SynthFaceStratum.EasyHQ => f.Quality == SynthFaceQuality.HQ && f.Hardness == SynthFaceHardness.Easy,
        SynthFaceStratum.HardHQ => f.Quality == SynthFaceQuality.HQ && f.Hardness == SynthFaceHardness.Hard,
        _ => f.Quality == SynthFaceQuality.LQ,
    };

    private static bool Second(SynthFaceStratum stratum, SynthFaceFactors f) => stratum switch
    {
        SynthFaceStratum.EasyHQ => f.Quality == SynthFaceQuality.HQ && f.Hardness == SynthFaceHardness.Easy,
        SynthFaceStratum.HardHQ => f.Quality == SynthFaceQuality.HQ,
        _ => true,
    };

    private static void AddPairs(List<SynthFaceVerificationPair> pairs, SynthFaceStratum stratum, SynthFaceProtocolOptions options,
        SynthFaceFactors[][] factors, int[] root, List<(int, int)> lookAlikes, ref StableRandom rng)
    {
        int n = factors.Length, m = factors[0].Length;
        int genuine = options.PairsPerStratum / 2, balanced = options.PairsPerStratum - genuine;
        int impostors = options.ImpostorPairsPerStratum > 0 ? options.ImpostorPairsPerStratum : balanced;
        // Look-alikes are few (a share of the identities): their count follows the balanced size.
        int twins = lookAlikes.Count == 0 ? 0 : Math.Min(impostors, (int)Math.Round(balanced * options.LookAlikeImpostorShare));
        var seen = new HashSet<(int, int, int, int)>();
        int maxTries = 1000 * (genuine + impostors);
        bool Pick(int identity, Func<SynthFaceFactors, bool> ok, int exclude, ref StableRandom r, out int sample)
        {
            int start = r.Next(m);
            for (int k = 0; k < m; k++)
            {
                int s = (start + k) % m;
                if (s != exclude && ok(factors[identity][s])) { sample = s; return true; }
            }
            sample = -1;
            return false;
        }
        bool TryAdd(int a, int b, SynthFacePairKind kind, ref StableRandom r)
        {
            if (!Pick(a, f => First(stratum, f), -1, ref r, out int sa)) return false;
            // Genuine pairs come from different sessions, so a shared background or light never gives them away.
            int session = factors[a][sa].Session;
            if (!Pick(b, f => Second(stratum, f) && (a != b || f.Session != session), a == b ? sa : -1, ref r, out int sb)) return false;
            var key = a < b || a == b && sa < sb ? (a, sa, b, sb) : (b, sb, a, sa);
            if (!seen.Add(key)) return false;
            pairs.Add(new SynthFaceVerificationPair(a, sa, b, sb, kind, stratum));
            return true;
        }
        int tries = 0;
        for (int added = 0; added < genuine; tries++)
        {
            if (tries > maxTries) throw Shortage(stratum);
            int i = rng.Next(n);
            if (TryAdd(i, i, SynthFacePairKind.Genuine, ref rng)) added++;
        }
        for (int added = 0; added < twins; tries++)
        {
            if (tries > maxTries) throw Shortage(stratum);
            var (i, j) = lookAlikes[rng.Next(lookAlikes.Count)];
            if (rng.Chance(0.5)) (i, j) = (j, i);
            if (TryAdd(i, j, SynthFacePairKind.LookAlikeImpostor, ref rng)) added++;
        }
        for (int added = 0; added < impostors - twins; tries++)
        {
            if (tries > maxTries) throw Shortage(stratum);
            int i = rng.Next(n), j = rng.Next(n);
            if (root[i] == root[j]) continue;
            if (TryAdd(i, j, SynthFacePairKind.Impostor, ref rng)) added++;
        }
    }

    private static InvalidOperationException Shortage(SynthFaceStratum stratum) =>
        new($"SynthFace protocol: not enough distinct {stratum} pairs; raise TestIdentities or TestImagesPerIdentity, or lower PairsPerStratum.");

    private static (List<SynthFaceTemplate>, List<SynthFaceTemplatePair>) BuildTemplates(SynthFaceProtocolOptions options, int[] root, List<(int, int)> lookAlikes, ref StableRandom rng)
    {
        int n = options.TestIdentities, m = options.TestImagesPerIdentity, per = options.Generator.ImagesPerSession;
        int sessions = (m + per - 1) / per;
        var templates = new List<SynthFaceTemplate>();
        var byIdentity = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            byIdentity[i] = new List<int>();
            var order = Enumerable.Range(0, sessions).ToArray();
            for (int k = order.Length - 1; k > 0; k--)
            {
                int j = rng.Next(k + 1);
                (order[k], order[j]) = (order[j], order[k]);
            }
            for (int t = 0; t < options.TemplatesPerIdentity; t++)
            {
                var samples = new List<int>();
                var media = new List<int>();
                for (int q = 0; q < options.MediaPerTemplate; q++)
                {
                    int session = order[t * options.MediaPerTemplate + q];
                    for (int s = session * per; s < Math.Min(m, session * per + Math.Min(per, options.ImagesPerMedia)); s++)
                    {
                        samples.Add(s);
                        media.Add(i * sessions + session);
                    }
                }
                byIdentity[i].Add(templates.Count);
                templates.Add(new SynthFaceTemplate(templates.Count, i, samples, media));
            }
        }
        var pairs = new List<SynthFaceTemplatePair>();
        for (int i = 0; i < n; i++)
            for (int a = 0; a < byIdentity[i].Count; a++)
                for (int b = a + 1; b < byIdentity[i].Count; b++)
                    pairs.Add(new SynthFaceTemplatePair(byIdentity[i][a], byIdentity[i][b], SynthFacePairKind.Genuine));
        int impostors = pairs.Count * options.TemplateImpostorsPerGenuine;
        // Look-alike template pairs are few (each twin pair has TemplatesPerIdentity^2 of them): cap at half of those.
        int twins = Math.Min((int)Math.Round(impostors * options.LookAlikeImpostorShare), lookAlikes.Count * options.TemplatesPerIdentity * options.TemplatesPerIdentity / 2);
        var seen = new HashSet<(int, int)>();
        for (int k = 0, tries = 0; k < impostors && tries < 100 * (impostors + 1); tries++)
        {
            int i, j;
            SynthFacePairKind kind;
            if (k < twins)
            {
                (i, j) = lookAlikes[rng.Next(lookAlikes.Count)];
                kind = SynthFacePairKind.LookAlikeImpostor;
            }
            else
            {
                i = rng.Next(n); j = rng.Next(n);
                if (root[i] == root[j]) continue;
                kind = SynthFacePairKind.Impostor;
            }
            int ta = byIdentity[i][rng.Next(byIdentity[i].Count)], tb = byIdentity[j][rng.Next(byIdentity[j].Count)];
            if (!seen.Add((Math.Min(ta, tb), Math.Max(ta, tb)))) continue;
            pairs.Add(new SynthFaceTemplatePair(ta, tb, kind));
            k++;
        }
        return (templates, pairs);
    }
}

using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

/// <summary>
/// Calibration proxy for the benchmark's difficulty (the trainer is not used here): score each verification
/// pair by the cosine of a fixed random projection of the standardised RGB image (subsampled). Raw pixels must
/// not solve hard-HQ pairs (near chance) but must do clearly better on easy-HQ pairs, or the strata
/// would not measure what they claim.
/// </summary>
[TestClass]
public sealed class SynthFaceCalibrationTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void RandomProjectionOfPixels_NearChanceOnHard_ClearlyAboveOnEasy()
    {
        var options = new SynthFaceProtocolOptions
        {
            TestIdentities = 80,
            TestImagesPerIdentity = 16,
            PairsPerStratum = 400,
            TemplatesPerIdentity = 1,
        };
        var protocol = SynthFaceProtocol.Create(options);
        var g = new SynthFaceGenerator(protocol.TestOptions);
        const int crop = 80, step = 2, cell = crop / step, dims = 128, offset = (112 - crop) / 2;
        var projection = new float[dims * cell * cell * 3];
        var rng = new Random(12345);
        for (int i = 0; i < projection.Length; i++) projection[i] = (float)(rng.NextDouble() * 2 - 1);
        var features = new Dictionary<(int, int), float[]>();
        var needed = protocol.Pairs.SelectMany(p => new[] { (p.IdentityA, p.SampleA), (p.IdentityB, p.SampleB) }).Distinct().ToArray();
        var computed = new float[needed.Length][];
        Parallel.For(0, needed.Length, k =>
        {
            var s = g.Generate(needed[k].Item1, needed[k].Item2);
            var x = new float[cell * cell * 3];
            for (int y = 0; y < cell; y++)
                for (int c = 0; c < cell; c++)
                {
                    int o = 3 * ((offset + y * step) * 112 + offset + c * step);
                    for (int ch = 0; ch < 3; ch++) x[3 * (y * cell + c) + ch] = s.Rgb[o + ch];
                }
            float mean = x.Average(), sd = MathF.Sqrt(x.Select(v => (v - mean) * (v - mean)).Average()) + 1e-3f;
            for (int i = 0; i < x.Length; i++) x[i] = (x[i] - mean) / sd;
            var f = new float[dims];
            for (int d = 0; d < dims; d++)
            {
                float acc = 0;
                for (int i = 0; i < x.Length; i++) acc += projection[d * x.Length + i] * x[i];
                f[d] = acc;
            }
            float norm = MathF.Sqrt(f.Sum(v => v * v));
            computed[k] = f.Select(v => v / norm).ToArray();
        });
        for (int k = 0; k < needed.Length; k++) features[needed[k]] = computed[k];

        var auc = new Dictionary<SynthFaceStratum, double>();
        foreach (var stratum in Enum.GetValues<SynthFaceStratum>())
        {
            var scored = protocol.Pairs.Where(p => p.Stratum == stratum)
                .Select(p => (Score: features[(p.IdentityA, p.SampleA)].Zip(features[(p.IdentityB, p.SampleB)], (a, b) => a * b).Sum(), p.IsSame))
                .ToArray();
            auc[stratum] = Auc(scored);
            double lookAlike = Auc(scored.Where(x => x.IsSame).Concat(protocol.Pairs.Where(p => p.Stratum == stratum && p.Kind == SynthFacePairKind.LookAlikeImpostor)
                .Select(p => (features[(p.IdentityA, p.SampleA)].Zip(features[(p.IdentityB, p.SampleB)], (a, b) => a * b).Sum(), false))).ToArray());
            TestContext.WriteLine($"{stratum}: AUC {auc[stratum]:F3} (genuine vs look-alike impostors {lookAlike:F3})");
        }
        // Measured (deterministic): EasyHQ 0.681, HardHQ 0.584, LQ 0.593.
        Assert.IsLessThan(0.62, auc[SynthFaceStratum.HardHQ], "raw pixels must not solve hard-HQ pairs");
        Assert.IsGreaterThan(0.45, auc[SynthFaceStratum.HardHQ]);
        Assert.IsGreaterThan(0.65, auc[SynthFaceStratum.EasyHQ], "raw pixels must do clearly better than chance on easy-HQ pairs");
        Assert.IsGreaterThan(auc[SynthFaceStratum.HardHQ] + 0.07, auc[SynthFaceStratum.EasyHQ], "easy-HQ pairs must be clearly easier than hard-HQ ones");
    }

    /// <summary>Area under the ROC curve by the rank-sum (Mann-Whitney) statistic, ties counted half.</summary>
    internal static double Auc((float Score, bool IsSame)[] scored)
    {
        var pos = scored.Where(s => s.IsSame).Select(s => s.Score).ToArray();
        var neg = scored.Where(s => !s.IsSame).Select(s => s.Score).ToArray();
        double wins = 0;
        foreach (var p in pos)
            foreach (var n in neg)
                wins += p > n ? 1 : p == n ? 0.5 : 0;
        return wins / (pos.Length * (double)neg.Length);
    }
}

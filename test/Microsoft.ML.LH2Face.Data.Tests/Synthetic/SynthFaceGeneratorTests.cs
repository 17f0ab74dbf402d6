using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceGeneratorTests
{
    private static readonly SynthFaceGenerator Generator = new(new SynthFaceOptions { Seed = 11 });

    [TestMethod]
    public void Generate_SameSeed_SameBytes_OtherSeedDiffers()
    {
        var other = new SynthFaceGenerator(new SynthFaceOptions { Seed = 11 });
        // Samples covering HQ and LQ (with JPEG and noise) images.
        int lq = Enumerable.Range(0, 40).First(s => Generator.DrawFactors(2, s).Degradation is { JpegQuality: > 0, NoiseSigma: > 0 });
        foreach (var (i, s) in new[] { (0, 0), (2, lq), (5, 3) })
        {
            var a = Generator.Generate(i, s);
            var b = other.Generate(i, s);
            CollectionAssert.AreEqual(a.Rgb, b.Rgb, $"identity {i} sample {s}");
            CollectionAssert.AreEqual(a.Depth, b.Depth);
            CollectionAssert.AreEqual(a.Landmarks, b.Landmarks);
            Assert.AreEqual(a.Factors, b.Factors);
        }
        Assert.AreEqual(SynthFaceQuality.LQ, Generator.Generate(2, lq).Quality);
        var third = new SynthFaceGenerator(new SynthFaceOptions { Seed = 12 });
        CollectionAssert.AreNotEqual(Generator.Generate(0, 0).Rgb, third.Generate(0, 0).Rgb);
        Assert.AreEqual(112 * 112 * 3, Generator.Generate(0, 0).Rgb.Length);
    }

    [TestMethod]
    public void GetIdentity_DiffersAcrossIdentities_MatchesAcrossImagesOfOne()
    {
        var ids = Enumerable.Range(0, 30).Select(Generator.GetIdentity).Where(id => id.LookAlikeOf is null).ToArray();
        for (int a = 0; a < ids.Length; a++)
        {
            for (int b = a + 1; b < ids.Length; b++)
            {
                double meanDiff = ids[a].Traits.Zip(ids[b].Traits, (x, y) => Math.Abs(x - y)).Average();
                Assert.IsGreaterThan(0.15, meanDiff, $"identities {ids[a].Index} and {ids[b].Index} are too alike");
            }
        }
        CollectionAssert.AreEqual(Generator.GetIdentity(3).Traits.ToArray(), new SynthFaceGenerator(new SynthFaceOptions { Seed = 11 }).GetIdentity(3).Traits.ToArray());
        var s0 = Generator.Generate(3, 0);
        var s7 = Generator.Generate(3, 7);
        Assert.AreEqual(3, s0.Identity);
        Assert.AreEqual(7, s7.Sample);
        CollectionAssert.AreEqual(s0.FrontalRgb.ToArray(), s7.FrontalRgb.ToArray(), "the identity's frontal render is the same for all its images");
        CollectionAssert.AreNotEqual(s0.Rgb, s7.Rgb);
        CollectionAssert.AreNotEqual(s0.FrontalRgb.ToArray(), Generator.Generate(4, 0).FrontalRgb.ToArray());
    }

    [TestMethod]
    public void GetIdentity_LookAlike_IsCloseToItsSource()
    {
        var g = new SynthFaceGenerator(new SynthFaceOptions { Seed = 3, LookAlikeRate = 1 });
        var twin = g.GetIdentity(1);
        Assert.AreEqual(0, twin.LookAlikeOf);
        var source = g.GetIdentity(0);
        // Perturbed by N(0, 0.25) per trait: about 0.2 apart on average, where two random people are 1/3 apart.
        double meanDiff = twin.Traits.Zip(source.Traits, (x, y) => Math.Abs(x - y)).Average();
        Assert.AreEqual(0.25, SynthFaceIdentity.DefaultLookAlikeSpread);
        Assert.IsLessThan(0.26, meanDiff);
        Assert.IsGreaterThan(0.1, meanDiff);
        Assert.AreEqual(source[SynthFaceTrait.FacialHairStyle], twin[SynthFaceTrait.FacialHairStyle]);
        Assert.IsNull(g.GetIdentity(0).LookAlikeOf);
    }

    [TestMethod]
    public void LookAlikeSpread_ScalesTheTwinsPerturbation()
    {
        // The same draws scaled: a trait that is not clamped moves exactly twice as far at twice the spread.
        var near = new SynthFaceGenerator(new SynthFaceOptions { Seed = 3, LookAlikeRate = 1, LookAlikeSpread = 0.05 }).GetIdentity(1);
        var far = new SynthFaceGenerator(new SynthFaceOptions { Seed = 3, LookAlikeRate = 1, LookAlikeSpread = 0.1 }).GetIdentity(1);
        var source = new SynthFaceGenerator(new SynthFaceOptions { Seed = 3 }).GetIdentity(0);
        int compared = 0;
        for (int t = 0; t < SynthFaceIdentity.TraitCount; t++)
        {
            double dNear = near.Traits[t] - source.Traits[t], dFar = far.Traits[t] - source.Traits[t];
            if (dNear == 0 || far.Traits[t] is 0 or 1)
                continue; // a discrete trait, or clamped
            Assert.AreEqual(2 * dNear, dFar, 1e-12, ((SynthFaceTrait)t).ToString());
            compared++;
        }
        Assert.IsGreaterThan(30, compared);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SynthFaceGenerator(new SynthFaceOptions { LookAlikeSpread = 1.5 }));
        StringAssert.Contains(e.Message, "SynthFaceOptions.LookAlikeSpread must be in [0, 1]");
    }

    [TestMethod]
    public void Render_FrontalNeutral_LandmarksOnTemplateWithinOnePixel()
    {
        var template = FaceTemplate.Points112.ToArray();
        foreach (int size in new[] { 112, 224 })
        {
            var g = new SynthFaceGenerator(new SynthFaceOptions { Seed = 5, ImageSize = size });
            float unit = size / 112f;
            for (int i = 0; i < 12; i++)
            {
                var s = g.Render(i, SynthFaceFactors.Neutral);
                for (int k = 0; k < 10; k++)
                    Assert.AreEqual(template[k] * unit, s.Landmarks[k], 1.0 * unit, $"size {size} identity {i} coordinate {k} (1 px of the 112 frame)");
            }
        }
    }

    [TestMethod]
    public void Render_FrontalNeutral_ImageAgreesWithLandmarks()
    {
        for (int i = 0; i < 8; i++)
        {
            var s = Generator.Render(i, SynthFaceFactors.Neutral);
            // The nose tip is the nearest point to the camera.
            int argmax = Array.IndexOf(s.Depth, s.Depth.Max());
            Assert.AreEqual(s.Landmarks[4], argmax % 112, 2.0, $"identity {i}: depth peak x");
            Assert.AreEqual(s.Landmarks[5], argmax / 112, 2.0, $"identity {i}: depth peak y");
            // The pupils are the darkest pixels around the eye landmarks.
            for (int e = 0; e < 2; e++)
            {
                int ex = (int)MathF.Round(s.Landmarks[2 * e]), ey = (int)MathF.Round(s.Landmarks[2 * e + 1]);
                (int X, int Y) darkest = (0, 0);
                int best = int.MaxValue;
                for (int y = ey - 3; y <= ey + 3; y++)
                    for (int x = ex - 3; x <= ex + 3; x++)
                    {
                        int o = 3 * (y * 112 + x), v = s.Rgb[o] + s.Rgb[o + 1] + s.Rgb[o + 2];
                        if (v < best) { best = v; darkest = (x, y); }
                    }
                Assert.AreEqual(s.Landmarks[2 * e], darkest.X, 1.5, $"identity {i} eye {e} x");
                Assert.AreEqual(s.Landmarks[2 * e + 1], darkest.Y, 1.5, $"identity {i} eye {e} y");
            }
        }
    }

    [TestMethod]
    public void Render_Yaw_MovesNoseTowardsTheTurn()
    {
        for (int i = 0; i < 4; i++)
        {
            float front = Generator.Render(i, SynthFaceFactors.Neutral).Landmarks[4];
            float right = Generator.Render(i, SynthFaceFactors.Neutral with { Yaw = 30 }).Landmarks[4];
            float left = Generator.Render(i, SynthFaceFactors.Neutral with { Yaw = -30 }).Landmarks[4];
            Assert.IsGreaterThan(front + 3, right, $"identity {i}: positive yaw moves the nose to +x");
            Assert.IsLessThan(front - 3, left, $"identity {i}: negative yaw moves the nose to -x");
            float up = Generator.Render(i, SynthFaceFactors.Neutral with { Pitch = 20 }).Landmarks[5];
            float frontY = Generator.Render(i, SynthFaceFactors.Neutral).Landmarks[5];
            Assert.IsLessThan(frontY - 1, up, $"identity {i}: positive pitch raises the nose");
        }
    }

    [TestMethod]
    public void Render_Expressions_ChangeTheFace()
    {
        var neutral = Generator.Render(1, SynthFaceFactors.Neutral);
        var smile = Generator.Render(1, SynthFaceFactors.Neutral with { Smile = 1 });
        Assert.IsLessThan(neutral.Landmarks[7] - 1, smile.Landmarks[7], "a smile raises the mouth corners");
        Assert.IsGreaterThan(neutral.Landmarks[8] - neutral.Landmarks[6], smile.Landmarks[8] - smile.Landmarks[6], "and widens the mouth");
        foreach (var f in new[] { SynthFaceFactors.Neutral with { MouthOpen = 1 }, SynthFaceFactors.Neutral with { EyesClosed = 1 }, SynthFaceFactors.Neutral with { BrowsRaised = 1 } })
        {
            var e = Generator.Render(1, f);
            int changed = e.Rgb.Zip(neutral.Rgb, (a, b) => Math.Abs(a - b) > 20 ? 1 : 0).Sum();
            Assert.IsGreaterThan(30, changed, f.ToString());
        }
        // Closed eyes hide the dark pupils.
        var closed = Generator.Render(1, SynthFaceFactors.Neutral with { EyesClosed = 1 });
        int ex = (int)MathF.Round(neutral.Landmarks[0]), ey = (int)MathF.Round(neutral.Landmarks[1]);
        Assert.IsGreaterThan(neutral.Rgb[3 * (ey * 112 + ex)] + 40, (int)closed.Rgb[3 * (ey * 112 + ex)]);
    }

    [TestMethod]
    public void Factors_Labels_FollowDocumentedThresholds()
    {
        var n = SynthFaceFactors.Neutral;
        Assert.AreEqual(SynthFaceHardness.Easy, n.Hardness);
        Assert.AreEqual(SynthFaceQuality.HQ, n.Quality);
        Assert.AreEqual(SynthFaceHardness.Easy, (n with { Yaw = 39.9, Pitch = -19.9, Smile = 0.49 }).Hardness);
        Assert.AreEqual(SynthFaceHardness.Hard, (n with { Yaw = -40 }).Hardness);
        Assert.AreEqual(SynthFaceHardness.Hard, (n with { Pitch = 20 }).Hardness);
        Assert.AreEqual(SynthFaceHardness.Hard, (n with { EyesClosed = 0.5 }).Hardness);
        Assert.AreEqual(SynthFaceHardness.Hard, (n with { Occluder = SynthFaceOccluder.Mask }).Hardness);
        Assert.AreEqual(SynthFaceQuality.LQ, (n with { Degradation = new SynthFaceDegradation { DownsampleSize = 24 } }).Quality);
        Assert.AreEqual(SynthFaceQuality.LQ, (n with { Degradation = new SynthFaceDegradation { ExposureGain = 0.5 } }).Quality);
    }

    [TestMethod]
    public void DrawFactors_RatesAndRanges_MatchOptions()
    {
        var f = Enumerable.Range(0, 100).SelectMany(i => Enumerable.Range(0, 20).Select(s => Generator.DrawFactors(i, s))).ToArray();
        double lq = f.Count(x => x.Quality == SynthFaceQuality.LQ) / (double)f.Length;
        double occluded = f.Count(x => x.Occluder != SynthFaceOccluder.None) / (double)f.Length;
        double hard = f.Count(x => x.Hardness == SynthFaceHardness.Hard) / (double)f.Length;
        Assert.AreEqual(0.3, lq, 0.03);
        Assert.AreEqual(0.1, occluded, 0.02);
        // Hard draws (0.5) plus occluders on easy draws (0.5 x 0.1).
        Assert.AreEqual(0.55, hard, 0.04);
        Assert.IsTrue(f.All(x => Math.Abs(x.Yaw) <= 75 && Math.Abs(x.Pitch) <= 30 && Math.Abs(x.Roll) <= 20));
        Assert.IsGreaterThan(70.0, f.Max(x => Math.Abs(x.Yaw)));
        Assert.IsTrue(f.Where(x => x.Quality == SynthFaceQuality.LQ).All(x => x.Degradation.GaussianBlurSigma > 0 || x.Degradation.MotionBlurLength > 0 || x.Degradation.DownsampleSize is >= 16 and <= 48));
        // Images of one session share lighting and background.
        var a = Generator.DrawFactors(7, 4);
        var b = Generator.DrawFactors(7, 5);
        Assert.AreEqual(a.Session, b.Session);
        Assert.AreEqual(a.BackgroundA, b.BackgroundA);
        Assert.AreEqual(a.Ambient, b.Ambient);
        Assert.AreNotEqual(a.Yaw, b.Yaw);
    }

    [TestMethod]
    public void Options_OutOfRange_ThrowsNamingTheOption()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SynthFaceGenerator(new SynthFaceOptions { LowQualityRate = 1.5 }));
        StringAssert.Contains(e.Message, "LowQualityRate");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SynthFaceGenerator(new SynthFaceOptions { ImageSize = 8 }));
    }
}

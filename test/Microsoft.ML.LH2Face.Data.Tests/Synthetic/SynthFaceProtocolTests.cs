using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceProtocolTests
{
    [TestMethod]
    public void CreateValidation_PairsAreAmongTheFirstTrainingIdentities_StratifiedAsTheTest()
    {
        var options = SynthFaceProtocolOptions.Small();
        var validation = SynthFaceProtocol.CreateValidation(options, 50);
        Assert.AreEqual(options.TrainSeed, validation.TestOptions.Seed, "validation images are drawn with the train seed");
        Assert.AreEqual(options.TrainSeed, validation.TrainOptions.Seed);
        Assert.AreEqual(50, validation.Options.TestIdentities);
        Assert.AreEqual(options.TrainImagesPerIdentity, validation.Options.TestImagesPerIdentity);
        Assert.IsTrue(validation.Pairs.All(p => p.IdentityA < 50 && p.IdentityB < 50 && p.SampleA < 20 && p.SampleB < 20));
        var train = new SynthFaceGenerator(validation.TrainOptions);
        foreach (var stratum in Enum.GetValues<SynthFaceStratum>())
        {
            var pairs = validation.Pairs.Where(p => p.Stratum == stratum).ToArray();
            Assert.AreEqual(options.PairsPerStratum / 2, pairs.Count(p => p.IsSame), stratum.ToString());
            Assert.AreEqual(options.ImpostorPairsPerStratum, pairs.Count(p => !p.IsSame), stratum.ToString());
        }
        foreach (var p in validation.Pairs.Take(500))
            Assert.AreEqual(p.Stratum, SynthFaceProtocol.StratumOf(train.DrawFactors(p.IdentityA, p.SampleA), train.DrawFactors(p.IdentityB, p.SampleB)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SynthFaceProtocol.CreateValidation(options, 199));
    }

    [TestMethod]
    public void CreateValidation_TooFewTrainingImagesForTheTemplates_NamesTrainImagesPerIdentity()
    {
        // 10 images = 3 sessions of 4, but 2 templates x 2 media need 4 sessions; this was an IndexOutOfRangeException.
        var options = SynthFaceProtocolOptions.Tiny();
        options.TrainIdentities = 24;
        options.TrainImagesPerIdentity = 10;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SynthFaceProtocol.CreateValidation(options, 8));
        StringAssert.Contains(e.Message, "raise TrainImagesPerIdentity");
        StringAssert.Contains(e.Message, "must be 1..3");
        options.TrainImagesPerIdentity = 16;
        Assert.AreEqual(8, SynthFaceProtocol.CreateValidation(options, 8).Options.TestIdentities);
    }

    [TestMethod]
    public void Create_Small_PairsAreStratifiedAndConsistentWithFactors()
    {
        var options = SynthFaceProtocolOptions.Small();
        var protocol = SynthFaceProtocol.Create(options);
        var test = new SynthFaceGenerator(protocol.TestOptions);
        Assert.AreEqual(options.TrainSeed, protocol.TrainOptions.Seed);
        Assert.AreEqual(options.TestSeed, protocol.TestOptions.Seed);
        Assert.AreEqual(5000, options.ImpostorPairsPerStratum, "enough impostors to read TAR at FAR = 1e-3");
        Assert.HasCount(3 * (options.PairsPerStratum / 2 + options.ImpostorPairsPerStratum), protocol.Pairs);
        foreach (var stratum in Enum.GetValues<SynthFaceStratum>())
        {
            var pairs = protocol.Pairs.Where(p => p.Stratum == stratum).ToArray();
            Assert.AreEqual(options.PairsPerStratum / 2, pairs.Count(p => p.IsSame), stratum.ToString());
            Assert.AreEqual(options.ImpostorPairsPerStratum, pairs.Count(p => !p.IsSame), stratum.ToString());
            Assert.AreEqual(90, pairs.Count(p => p.Kind == SynthFacePairKind.LookAlikeImpostor), stratum.ToString());
            Assert.AreEqual(pairs.Length, pairs.Select(p => (p.IdentityA, p.SampleA, p.IdentityB, p.SampleB)).Distinct().Count(), "no duplicate pairs");
        }
        foreach (var p in protocol.Pairs)
        {
            Assert.AreEqual(p.Stratum, SynthFaceProtocol.StratumOf(test.DrawFactors(p.IdentityA, p.SampleA), test.DrawFactors(p.IdentityB, p.SampleB)));
            switch (p.Kind)
            {
                case SynthFacePairKind.Genuine:
                    Assert.AreEqual(p.IdentityA, p.IdentityB);
                    Assert.AreNotEqual(test.DrawFactors(p.IdentityA, p.SampleA).Session, test.DrawFactors(p.IdentityB, p.SampleB).Session, "genuine pairs span sessions");
                    break;
                case SynthFacePairKind.LookAlikeImpostor:
                    Assert.IsTrue(test.GetIdentity(p.IdentityA).LookAlikeOf == p.IdentityB || test.GetIdentity(p.IdentityB).LookAlikeOf == p.IdentityA);
                    break;
                default:
                    Assert.AreNotEqual(p.IdentityA, p.IdentityB);
                    Assert.AreNotEqual(test.GetIdentity(p.IdentityA).LookAlikeOf, p.IdentityB);
                    Assert.AreNotEqual(test.GetIdentity(p.IdentityB).LookAlikeOf, p.IdentityA);
                    break;
            }
            Assert.IsLessThan(options.TestIdentities, Math.Max(p.IdentityA, p.IdentityB));
            Assert.IsLessThan(options.TestImagesPerIdentity, Math.Max(p.SampleA, p.SampleB));
        }
        // Deterministic.
        CollectionAssert.AreEqual(protocol.Pairs.ToArray(), SynthFaceProtocol.Create(options).Pairs.ToArray());
    }

    [TestMethod]
    public void Create_Templates_GroupMediaOfOneIdentity()
    {
        var options = SynthFaceProtocolOptions.Small();
        var protocol = SynthFaceProtocol.Create(options);
        var test = new SynthFaceGenerator(protocol.TestOptions);
        Assert.HasCount(options.TestIdentities * options.TemplatesPerIdentity, protocol.Templates);
        foreach (var t in protocol.Templates)
        {
            Assert.HasCount(options.MediaPerTemplate * options.ImagesPerMedia, t.Samples);
            Assert.HasCount(t.Samples.Count, t.Media);
            Assert.AreEqual(options.MediaPerTemplate, t.Media.Distinct().Count());
            // A medium is a session: its images share the background.
            foreach (var medium in t.Samples.Zip(t.Media).GroupBy(x => x.Second))
                Assert.AreEqual(1, medium.Select(x => test.DrawFactors(t.Identity, x.First).BackgroundA).Distinct().Count());
        }
        var byId = protocol.Templates.ToDictionary(t => t.Id);
        var genuine = protocol.TemplatePairs.Where(p => p.IsSame).ToArray();
        Assert.HasCount(options.TestIdentities, genuine);
        Assert.IsTrue(genuine.All(p => byId[p.TemplateA].Identity == byId[p.TemplateB].Identity));
        Assert.IsTrue(protocol.TemplatePairs.Where(p => !p.IsSame).All(p => byId[p.TemplateA].Identity != byId[p.TemplateB].Identity));
        Assert.IsGreaterThan(5 * genuine.Length, protocol.TemplatePairs.Count(p => !p.IsSame));
        Assert.IsGreaterThan(0, protocol.TemplatePairs.Count(p => p.Kind == SynthFacePairKind.LookAlikeImpostor));
    }

    [TestMethod]
    public void Options_SameSeeds_Throw_AndFullPresetValidates()
    {
        var bad = SynthFaceProtocolOptions.Small();
        bad.TestSeed = bad.TrainSeed;
        var e = Assert.ThrowsExactly<ArgumentException>(() => SynthFaceProtocol.Create(bad));
        StringAssert.Contains(e.Message, "TestSeed");
        var full = SynthFaceProtocolOptions.Full();
        full.Validate();
        Assert.IsGreaterThan(SynthFaceProtocolOptions.Small().TrainIdentities, full.TrainIdentities);
        var negative = SynthFaceProtocolOptions.Small();
        negative.ImpostorPairsPerStratum = -1;
        var n = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SynthFaceProtocol.Create(negative));
        StringAssert.Contains(n.Message, "ImpostorPairsPerStratum must be 0 (balanced) or more");
    }
}

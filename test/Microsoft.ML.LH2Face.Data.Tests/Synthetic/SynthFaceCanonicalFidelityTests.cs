using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceCanonicalFidelityTests
{
    [TestMethod]
    public void Measure_FrontalTruthOffByOne_ExactPsnrPerStratum()
    {
        var generator = new SynthFaceGenerator(new SynthFaceOptions { ImageSize = 32 });
        var images = Enumerable.Range(0, 3).SelectMany(id => Enumerable.Range(0, 6).Select(s => (id, s))).ToList();
        const int resolution = 16;
        // A "renderer" that returns the area-resized frontal truth + 1 everywhere: PSNR = 20 log10(255) on every image.
        var result = SynthFaceCanonicalFidelity.Measure(generator, images, resolution, samples => samples
            .Select(s => ImageFidelity.ResizeArea(ImageFidelity.ToPlanar(s.FrontalRgb.Span, s.Size), 3, s.Size, resolution).Select(v => v + 1).ToArray())
            .ToArray());
        var all = result[SynthFaceCanonicalFidelity.AllImages];
        Assert.AreEqual(images.Count, all.Images);
        Assert.AreEqual(20 * Math.Log10(255), all.MeanPsnr, 1e-4);
        Assert.AreEqual(images.Count, result.Where(r => r.Key != SynthFaceCanonicalFidelity.AllImages).Sum(r => r.Value.Images), "every image in one stratum");
        var expected = images.GroupBy(k => SynthFaceCanonicalFidelity.StratumOf(generator.DrawFactors(k.id, k.s)).ToString()).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (stratum, count) in expected)
            Assert.AreEqual(count, result[stratum].Images, stratum);
    }

    [TestMethod]
    public void Measure_WrongResolution_ThrowsNamingIt()
    {
        var generator = new SynthFaceGenerator(new SynthFaceOptions { ImageSize = 32 });
        var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            SynthFaceCanonicalFidelity.Measure(generator, [(0, 0)], 16, samples => samples.Select(_ => new float[3 * 8 * 8]).ToArray()));
        StringAssert.Contains(e.Message, "16x16");
    }
}

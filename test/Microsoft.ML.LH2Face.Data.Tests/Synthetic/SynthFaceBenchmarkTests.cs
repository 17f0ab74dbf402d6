using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceBenchmarkTests
{
    [TestMethod]
    public void Measure_ReturnsMedianOfRuns()
    {
        var speed = SynthFaceBenchmark.Measure(new SynthFaceOptions { ImageSize = 56 }, imagesPerRun: 20, runs: 3, imagesPerIdentity: 10);
        Assert.HasCount(3, speed.Runs);
        Assert.AreEqual(speed.Runs.Order().ElementAt(1), speed.ImagesPerSecondPerCore);
        Assert.IsGreaterThan(0.0, speed.ImagesPerSecondPerCore);
        Assert.HasCount(3, speed.CpuRuns);
        Assert.AreEqual(speed.CpuRuns.Order().ElementAt(1), speed.ImagesPerCpuSecond);
        Assert.IsGreaterThan(0.0, speed.ImagesPerCpuSecond);
        Assert.AreEqual(56, speed.ImageSize);
        Assert.AreEqual(1, speed.Threads);
    }

    [TestMethod]
    public void ContactSheet_Write_IsAGridOfTiles()
    {
        var path = Path.Combine(Path.GetTempPath(), $"synthface-sheet-{Guid.NewGuid():N}.png");
        try
        {
            var (w, h) = SynthFaceContactSheet.Write(path, new SynthFaceGenerator(new SynthFaceOptions { ImageSize = 32 }), identities: 2, variations: 3);
            Assert.AreEqual(4 * 34 + 2, w);
            Assert.AreEqual(2 * 34 + 2, h);
            using var image = MLImage.CreateFromFile(path);
            Assert.AreEqual(w, image.Width);
            Assert.AreEqual(h, image.Height);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

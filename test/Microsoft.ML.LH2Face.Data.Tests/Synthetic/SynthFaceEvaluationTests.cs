using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceEvaluationTests
{
    private static readonly SynthFaceProtocol Tiny = SynthFaceProtocol.Create(SynthFaceProtocolOptions.Tiny());

    [TestMethod]
    public void Evaluate_AnOracleThatKnowsTheIdentity_SeparatesEveryStratumPerfectly()
    {
        // The oracle embeds image i as the one-hot vector of its identity: genuine pairs score 1, impostors 0.
        var images = SynthFaceEvaluation.PairImages(Tiny);
        int calls = 0;
        var result = SynthFaceEvaluation.Evaluate(planar =>
        {
            calls++;
            Assert.HasCount(images.Count, planar);
            Assert.HasCount(3 * 24 * 24, planar[0]);
            return images.Select(im => Enumerable.Range(0, Tiny.Options.TestIdentities).Select(k => k == im.Identity ? 1f : 0f).ToArray()).ToArray();
        }, 24, Tiny);
        Assert.AreEqual(1, calls);
        CollectionAssert.AreEqual(new[] { "EasyHQ", "HardHQ", "LQ" }, result.Strata.Keys.ToArray());
        foreach (var (_, r) in result.Strata)
        {
            Assert.AreEqual(0, r.Eer, 1e-12);
            Assert.AreEqual(15, r.GenuineCount);
        }
        Assert.AreEqual(1, result.TarAt("HardHQ", 1e-2), 1e-12);
        for (int i = 0; i < Tiny.Pairs.Count; i++)
            Assert.AreEqual(Tiny.Pairs[i].IsSame ? 1f : 0f, result.PairScores[i], 1e-6f);
    }

    [TestMethod]
    public void Evaluate_PairScore_IsTheCosineOfTheTwoImagesEmbeddings()
    {
        var images = SynthFaceEvaluation.PairImages(Tiny);
        var random = new Random(5);
        var vectors = images.Select(_ => new[] { (float)random.NextDouble() - 0.5f, (float)random.NextDouble() - 0.5f, (float)random.NextDouble() - 0.5f }).ToArray();
        var result = SynthFaceEvaluation.Evaluate(_ => vectors, 16, Tiny);
        var p = Tiny.Pairs[7];
        var a = vectors[images.ToList().IndexOf((p.IdentityA, p.SampleA))];
        var b = vectors[images.ToList().IndexOf((p.IdentityB, p.SampleB))];
        double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        double cosine = dot / Math.Sqrt((a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) * (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]));
        Assert.AreEqual(cosine, result.PairScores[7], 1e-6);
        // Random vectors know nothing: every stratum's EER near one half (15 genuine pairs, so loosely).
        foreach (var (name, r) in result.Strata)
            Assert.IsTrue(r.Eer is > 0.25 and < 0.75, $"{name}: EER {r.Eer}");
    }

    [TestMethod]
    public void Evaluate_InChunks_GivesTheSameScoresAsInOneCall()
    {
        // Embedding = mean of each colour plane: deterministic per image, different between images.
        static float[][] Means(IReadOnlyList<float[]> planar) => planar.Select(p => new[] { p[..256].Average(), p[256..512].Average(), p[512..].Average() }).ToArray();
        int calls = 0;
        var whole = SynthFaceEvaluation.Evaluate(Means, 16, Tiny);
        var chunked = SynthFaceEvaluation.Evaluate(planar => { calls++; Assert.IsLessThanOrEqualTo(7, planar.Count); return Means(planar); }, 16, Tiny, chunkSize: 7);
        Assert.AreEqual((SynthFaceEvaluation.PairImages(Tiny).Count + 6) / 7, calls);
        CollectionAssert.AreEqual(whole.PairScores, chunked.PairScores);
    }

    [TestMethod]
    public void Evaluate_WithAnEmbedder_FeedsItsInputSizeAndTheFlipTest()
    {
        using var embedder = new RecordingEmbedder(20);
        var result = SynthFaceEvaluation.Evaluate(embedder, Tiny, flipTest: true);
        Assert.AreEqual(SynthFaceEvaluation.PairImages(Tiny).Count, embedder.Images);
        Assert.IsTrue(embedder.FlipTests.All(f => f), "flipTest reaches the embedder");
        Assert.HasCount(Tiny.Pairs.Count, result.PairScores);
    }

    private sealed class RecordingEmbedder(int inputSize) : Microsoft.ML.LH2Face.Data.Embedding.IFaceEmbedder
    {
        public int Images;
        public readonly List<bool> FlipTests = new();

        public int InputSize => inputSize;

        public float[][] Embed(IReadOnlyList<Microsoft.ML.Data.MLImage> images, bool flipTest, IProgress<int>? progress = null) => throw new NotSupportedException();

        public float[][] Embed(IReadOnlyList<float[]> planarImages, bool flipTest, IProgress<int>? progress = null)
        {
            Assert.IsTrue(planarImages.All(p => p.Length == 3 * inputSize * inputSize));
            Images += planarImages.Count;
            FlipTests.Add(flipTest);
            return planarImages.Select(p => new[] { p.Average(), p[0] + 1 }).ToArray();
        }

        public void Dispose()
        {
        }
    }

    [TestMethod]
    public void RenderPlanar_IsTheGeneratorsImageAreaResized()
    {
        var generator = new SynthFaceGenerator(Tiny.TestOptions);
        var sample = generator.Generate(3, 4);
        var planar = SynthFaceEvaluation.RenderPlanar(generator, new[] { (3, 4) }, 28)[0];
        CollectionAssert.AreEqual(ImageFidelity.ResizeArea(ImageFidelity.ToPlanar(sample.Rgb, sample.Size), 3, sample.Size, 28), planar);
        var full = SynthFaceEvaluation.RenderPlanar(generator, new[] { (3, 4) }, sample.Size)[0];
        CollectionAssert.AreEqual(ImageFidelity.ToPlanar(sample.Rgb, sample.Size), full);
    }

    [TestMethod]
    public void Evaluate_WrongNumberOfEmbeddings_SaysHowManyWereExpected()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => SynthFaceEvaluation.Evaluate(_ => new float[2][], 16, Tiny));
        StringAssert.Contains(error.Message, $"for {SynthFaceEvaluation.PairImages(Tiny).Count} images");
    }

    [TestMethod]
    public void TarAt_UnknownStratumOrFar_NamesWhatThereIs()
    {
        var images = SynthFaceEvaluation.PairImages(Tiny);
        var result = SynthFaceEvaluation.Evaluate(_ => images.Select(im => new[] { (float)im.Identity, 1f }).ToArray(), 16, Tiny);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => result.TarAt("Hard", 1e-2)).Message, "EasyHQ, HardHQ, LQ");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => result.TarAt("LQ", 0.5)).Message, "0.01");
    }
}

using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Embedding;

namespace Microsoft.ML.LH2Face.Data.Tests.Embedding;

[TestClass]
public sealed class OnnxFaceEmbedderTests
{
    private const int Size = 4;
    private static string folder = "";
    private static string modelPath = "";

    [ClassInitialize]
    public static void WriteModel(TestContext _)
    {
        folder = Directory.CreateTempSubdirectory("lh2face-onnx-").FullName;
        modelPath = Path.Combine(folder, "tiny.onnx");
        TinyOnnxModel.Write(modelPath, Size);
    }

    [ClassCleanup]
    public static void DeleteModel() => Directory.Delete(folder, recursive: true);

    /// <summary>R = 10 * x, G = 20 * y, B = 7, for pixel column x and row y.</summary>
    private static float[] Planar(int offset = 0)
    {
        var p = new float[3 * Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                p[y * Size + x] = 10 * x + offset;
                p[Size * Size + y * Size + x] = 20 * y;
                p[2 * Size * Size + y * Size + x] = 7;
            }
        }
        return p;
    }

    [TestMethod]
    public void Embed_PooledNoNormalisation_ChannelMeans()
    {
        using var embedder = new OnnxFaceEmbedder(modelPath, new OnnxFaceEmbedderOptions { InputSize = Size, Mean = 0, Std = 1, OutputName = "pooled" });
        var e = embedder.Embed(new[] { Planar(), Planar(offset: 2) }, flipTest: false);
        CollectionAssert.AreEqual(new[] { 15f, 30f, 7f }, e[0]);
        CollectionAssert.AreEqual(new[] { 17f, 30f, 7f }, e[1]);
    }

    [TestMethod]
    public void Embed_BgrAndArcFaceNormalisation_HandComputed()
    {
        using var embedder = new OnnxFaceEmbedder(modelPath, new OnnxFaceEmbedderOptions { InputSize = Size, ChannelOrder = ChannelOrder.Bgr, OutputName = "pooled", BatchSize = 1 });
        var e = embedder.Embed(new[] { Planar() }, flipTest: true);
        // Channel means (x - 127.5) / 127.5, B first; the flip leaves means unchanged, so the flip test doubles them.
        float[] expected = { 2 * (7 - 127.5f) / 127.5f, 2 * (30 - 127.5f) / 127.5f, 2 * (15 - 127.5f) / 127.5f };
        for (int c = 0; c < 3; c++)
            Assert.AreEqual(expected[c], e[0][c], 1e-6f);
    }

    [TestMethod]
    public void Embed_FlatWithFlipTest_SumsImageAndMirror()
    {
        using var embedder = new OnnxFaceEmbedder(modelPath, new OnnxFaceEmbedderOptions { InputSize = Size, Mean = 0, Std = 1, OutputName = "flat", BatchSize = 3 });
        var progress = new List<int>();
        var e = embedder.Embed(Enumerable.Range(0, 5).Select(i => Planar(i)).ToArray(), flipTest: true, new SyncProgress(progress));
        Assert.AreEqual(5, e.Length);
        // Red at (x, y) plus red at (3 - x, y): 10x + 10(3 - x) + 2 * offset = 30 + 2 * offset; green doubles; blue 14.
        for (int i = 0; i < 5; i++)
        {
            Assert.AreEqual(48, e[i].Length);
            Assert.IsTrue(e[i].Take(16).All(v => v == 30 + 2 * i), $"red of image {i}");
            Assert.AreEqual(2 * 20 * 3, e[i][16 + 3 * Size + 1], "green at y = 3");
            Assert.IsTrue(e[i].Skip(32).All(v => v == 14));
        }
        CollectionAssert.AreEqual(new[] { 3, 5 }, progress);
    }

    [TestMethod]
    public void Embed_MLImage_ReadsRgbaPixels()
    {
        var rgba = new byte[Size * Size * 4];
        for (int q = 0; q < Size * Size; q++)
        {
            rgba[4 * q] = (byte)(10 * (q % Size));
            rgba[4 * q + 1] = (byte)(20 * (q / Size));
            rgba[4 * q + 2] = 7;
            rgba[4 * q + 3] = 255;
        }
        using var image = MLImage.CreateFromPixels(Size, Size, MLPixelFormat.Rgba32, rgba);
        using var embedder = new OnnxFaceEmbedder(modelPath, new OnnxFaceEmbedderOptions { InputSize = Size, Mean = 0, Std = 1, OutputName = "flat" });
        var e = embedder.Embed(new[] { image }, flipTest: false);
        CollectionAssert.AreEqual(Planar(), e[0]);
    }

    [TestMethod]
    public void Embed_WrongCropSize_ThrowsWithFix()
    {
        using var embedder = new OnnxFaceEmbedder(modelPath, new OnnxFaceEmbedderOptions { InputSize = Size });
        var e = Assert.ThrowsExactly<ArgumentException>(() => embedder.Embed(new[] { new float[10] }, flipTest: false));
        StringAssert.Contains(e.Message, "planarImages[0]");
    }

    [TestMethod]
    public void Constructor_MissingFile_ThrowsFileNotFound()
    {
        Assert.ThrowsExactly<FileNotFoundException>(() => new OnnxFaceEmbedder(Path.Combine(folder, "none.onnx")));
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(List<int> values) : IProgress<int>
    {
        public void Report(int value) => values.Add(value);
    }
}

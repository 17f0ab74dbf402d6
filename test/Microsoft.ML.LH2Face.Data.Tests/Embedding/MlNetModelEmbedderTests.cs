using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Embedding;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Data.Tests.Embedding;

/// <summary>
/// Tiny ML.NET models whose "Embedding" is the planar RGB pixels of the crop (ExtractPixels), saved and
/// loaded back, one per input kind the embedder adapts to.
/// </summary>
[TestClass]
public sealed class MlNetModelEmbedderTests
{
    private const int Size = 4;
    private string folder = "";

    [TestInitialize]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("lh2face-mlnet-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    /// <summary>R = 10 * x + offset, G = 20 * y, B = 7.</summary>
    private static MLImage Image(int offset)
    {
        var rgba = new byte[Size * Size * 4];
        for (int q = 0; q < Size * Size; q++)
        {
            rgba[4 * q] = (byte)(10 * (q % Size) + offset);
            rgba[4 * q + 1] = (byte)(20 * (q / Size));
            rgba[4 * q + 2] = 7;
            rgba[4 * q + 3] = 255;
        }
        return MLImage.CreateFromPixels(Size, Size, MLPixelFormat.Rgba32, rgba);
    }

    private static float[] ExpectedFlipSum(int offset)
    {
        // Red at (x, y) plus red at (3 - x, y) = 30 + 2 * offset; green doubles; blue 14.
        var e = new float[3 * Size * Size];
        for (int q = 0; q < Size * Size; q++)
        {
            e[q] = 30 + 2 * offset;
            e[Size * Size + q] = 40 * (q / Size);
            e[2 * Size * Size + q] = 14;
        }
        return e;
    }

    [TestMethod]
    public void Embed_ImageColumnModel_PixelsAndFlipSum()
    {
        var ctx = new MLContext(seed: 0);
        using var sample = Image(0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new ImageInput { Image = sample } });
        var model = ctx.Transforms.ExtractPixels("Embedding", "Image", interleavePixelColors: false).Fit(data);
        string path = Path.Combine(folder, "model.zip");
        // ML.NET cannot serialise an input schema of only an image column: the model is saved without one.
        ctx.Model.Save(model, null, path);

        using var embedder = new MlNetModelEmbedder(path, Size);
        using var a = Image(1);
        using var b = Image(3);
        var plain = embedder.Embed(new[] { a, b }, flipTest: false);
        Assert.AreEqual(10f + 1, plain[0][1], "red at x = 1");
        Assert.AreEqual(20f * 2, plain[1][16 + 2 * Size], "green at y = 2");
        var flipped = embedder.Embed(new[] { a, b }, flipTest: true);
        CollectionAssert.AreEqual(ExpectedFlipSum(1), flipped[0]);
        CollectionAssert.AreEqual(ExpectedFlipSum(3), flipped[1]);
    }

    [TestMethod]
    public void Embed_ImageColumnAmongOthersSavedWithTheDataSchema_ProbesTheDroppedImageColumn()
    {
        // As SynthFaceDataView training data is saved: ML.NET keeps Label and Identity and drops the image column.
        var ctx = new MLContext(seed: 0);
        using var sample = Image(0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new LabelledImageInput { Image = sample, Identity = 3 } });
        var model = ctx.Transforms.ExtractPixels("Embedding", "Image", interleavePixelColors: false).Fit(data);
        string path = Path.Combine(folder, "labelled.zip");
        ctx.Model.Save(model, data.Schema, path);
        ctx.Model.Load(path, out var saved);
        Assert.IsNull(saved.GetColumnOrNull("Image"), "ML.NET dropped the image column from the saved schema");
        Assert.IsNotNull(saved.GetColumnOrNull("Identity"));

        using var embedder = new MlNetModelEmbedder(path, Size);
        using var a = Image(1);
        Assert.AreEqual(10f + 1, embedder.Embed(new[] { a }, flipTest: false)[0][1], "red at x = 1");
    }

    [TestMethod]
    public void Embed_InputSizeNoAttributeRegistered_RegistersTheImageTypeItself()
    {
        // No class in this process carries [ImageType(7, 7)]: ML.NET alone would say "Type 'MLImage' is not yet supported".
        var ctx = new MLContext(seed: 0);
        using var sample = Image(0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new ImageInput { Image = sample } });
        var model = ctx.Transforms.ResizeImages("Small", 3, 3, "Image").Append(ctx.Transforms.ExtractPixels("Embedding", "Small", interleavePixelColors: false)).Fit(data);
        string path = Path.Combine(folder, "resize.zip");
        ctx.Model.Save(model, null, path);
        using var embedder = new MlNetModelEmbedder(path, 7);
        var planar = Enumerable.Range(0, 3 * 7 * 7).Select(i => (float)(i % 7 * 30)).ToArray();
        var result = embedder.Embed(new[] { planar }, flipTest: false);
        Assert.HasCount(3 * 3 * 3, result[0]);
    }

    [TestMethod]
    public void Embed_ImagePathModel_WritesTemporaryFilesAndReadsThemBack()
    {
        var ctx = new MLContext(seed: 0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new PathInput { ImagePath = "x.png", Identity = "a" } });
        // Like the pipeline 'lh2face train' saves: LoadImages(ImagePath) and a key-mapped Identity.
        var model = ctx.Transforms.LoadImages("Image", imageFolder: "", inputColumnName: "ImagePath")
            .Append(ctx.Transforms.Conversion.MapValueToKey("Label", "Identity"))
            .Append(ctx.Transforms.ResizeImages("Image", Size, Size))
            .Append(ctx.Transforms.ExtractPixels("Embedding", "Image", interleavePixelColors: false))
            .Fit(data);
        string path = Path.Combine(folder, "paths.zip");
        ctx.Model.Save(model, data.Schema, path);

        using var embedder = new MlNetModelEmbedder(path, Size);
        using var a = Image(2);
        var e = embedder.Embed(new[] { a }, flipTest: true);
        CollectionAssert.AreEqual(ExpectedFlipSum(2), e[0]);
    }

    [TestMethod]
    public void Embed_OnnxScorerChain_LoadsOnnxTransformerLikeTrainedModels()
    {
        // The shape of a saved LH2Face model: LoadImages -> ResizeImages -> ExtractPixels -> ApplyOnnxModel.
        string onnx = Path.Combine(folder, "tiny.onnx");
        TinyOnnxModel.Write(onnx, Size);
        var ctx = new MLContext(seed: 0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new PathInput { ImagePath = "x.png", Identity = "a" } });
        var model = ctx.Transforms.LoadImages("Image", imageFolder: "", inputColumnName: "ImagePath")
            .Append(ctx.Transforms.ResizeImages("Image", Size, Size))
            .Append(ctx.Transforms.ExtractPixels("input", "Image", interleavePixelColors: false))
            .Append(ctx.Transforms.ApplyOnnxModel(new[] { "flat" }, new[] { "input" }, onnx))
            .Append(ctx.Transforms.CopyColumns("Embedding", "flat"))
            .Fit(data);
        string path = Path.Combine(folder, "onnx-chain.zip");
        ctx.Model.Save(model, data.Schema, path);
        (model as IDisposable)?.Dispose();

        using var embedder = new MlNetModelEmbedder(path, Size);
        using var a = Image(4);
        var e = embedder.Embed(new[] { a }, flipTest: true);
        CollectionAssert.AreEqual(ExpectedFlipSum(4), e[0]);
    }

    [TestMethod]
    public void Embed_PixelVectorModel_PlanarInputAndFlipSum()
    {
        var ctx = new MLContext(seed: 0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new PixelInput { Image = new float[3 * Size * Size] } });
        var model = ctx.Transforms.CopyColumns("Embedding", "Image").Fit(data);
        string path = Path.Combine(folder, "pixels.zip");
        ctx.Model.Save(model, data.Schema, path);

        using var embedder = new MlNetModelEmbedder(path);
        Assert.AreEqual(Size, embedder.InputSize, "read from the schema");
        using var a = Image(1);
        var fromImage = embedder.Embed(new[] { a }, flipTest: true);
        CollectionAssert.AreEqual(ExpectedFlipSum(1), fromImage[0]);
        var planar = Enumerable.Range(0, 48).Select(i => (float)i).ToArray();
        var fromPlanar = embedder.Embed(new[] { planar }, flipTest: false);
        CollectionAssert.AreEqual(planar, fromPlanar[0]);
    }

    [TestMethod]
    public void Constructor_ModelWithoutImageInput_ThrowsListingColumns()
    {
        var ctx = new MLContext(seed: 0);
        var data = ctx.Data.LoadFromEnumerable(new[] { new OtherInput { Features = new float[2] } });
        var model = ctx.Transforms.CopyColumns("Embedding", "Features").Fit(data);
        string path = Path.Combine(folder, "other.zip");
        ctx.Model.Save(model, data.Schema, path);
        var e = Assert.ThrowsExactly<ArgumentException>(() => new MlNetModelEmbedder(path));
        StringAssert.Contains(e.Message, "its saved input columns: Features: Vector<Single, 2>");
        StringAssert.Contains(e.Message, "column 'Image'");
    }

    private sealed class ImageInput
    {
        [ImageType(Size, Size)]
        public MLImage Image { get; set; } = null!;
    }

    private sealed class LabelledImageInput
    {
        [ImageType(Size, Size)]
        public MLImage Image { get; set; } = null!;

        public int Identity { get; set; }
    }

    private sealed class PathInput
    {
        public string ImagePath { get; set; } = "";

        public string Identity { get; set; } = "";
    }

    private sealed class PixelInput
    {
        [VectorType(3 * Size * Size)]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class OtherInput
    {
        [VectorType(2)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }
}

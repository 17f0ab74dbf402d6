using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Rendering;

/// <summary>The renderer inside the ML.NET trainer: loss terms in progress, output columns, ONNX agreement, model.zip.</summary>
[TestClass]
[TestCategory("Renderer")]
public sealed class RendererPipelineTests
{
    private const int Size = 32;
    private const int Resolution = 16;
    private const int Values = 3 * Resolution * Resolution;
    private static string workDir = "";
    private static MLContext ml = null!;
    private static IDataView heldOut = null!;
    private static ITransformer keyMap = null!;
    private static LH2FaceTransformer face = null!;
    private static FaceNetwork network = null!;
    private static readonly List<LH2FaceProgress> progress = new();

    public sealed class RenderedRow
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public float[] Reconstruction { get; set; } = Array.Empty<float>();

        public float[] CanonicalFace { get; set; } = Array.Empty<float>();
    }

    [ClassInitialize]
    public static void TrainOnce(TestContext _)
    {
        workDir = Directory.CreateTempSubdirectory("lh2face-render-").FullName;
        ml = new MLContext(seed: 1) { TempFilePath = Path.Combine(workDir, "mltemp") };
        Directory.CreateDirectory(ml.TempFilePath);
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(4, 4, Size, 5), Size);
        keyMap = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw);
        heldOut = TestFaces.PixelData(ml, TestFaces.PixelRows(4, 1, Size, 5, firstSample: 50), Size);
        var options = Options();
        options.Progress = new ProgressRecorder(progress.Add);
        var trainer = (LH2FaceTrainer)ml.Transforms.LH2Face(options);
        (face, var net) = trainer.FitCore(keyMap.Transform(raw), keepNetwork: true);
        network = net!;
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        face?.Dispose();
        network?.Dispose();
        Directory.Delete(workDir, recursive: true);
    }

    private static LH2FaceTrainer.Options Options()
    {
        var options = TestFaces.QuickOptions(epochs: 2, batchSize: 8);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.UseRenderer = true;
        options.RendererResolution = Resolution;
        return options;
    }

    [TestMethod]
    public void Fit_ReportsTheRendererTermsEveryStep()
    {
        Assert.HasCount(4, progress, "16 images, batch 8, 2 epochs");
        foreach (var p in progress)
        {
            foreach (var term in new[] { RendererTraining.ReconstructionTerm, RendererTraining.CanonicalRecognitionTerm, RendererTraining.ViewConsistencyTerm })
                Assert.IsTrue(p.LossTerms.TryGetValue(term, out var v) && float.IsFinite(v), $"term {term} at step {p.Step}");
            // Every term is reported with its weight applied (reconstruction 1, canonical 0.5, view 0.1), so they sum to the loss.
            double expected = p.LossTerms.Values.Sum();
            Assert.AreEqual(expected, p.Loss, 1e-4 * Math.Abs(expected));
        }
    }

    [TestMethod]
    public void GetOutputSchema_AddsTheRendererColumnsBeforeFit()
    {
        var trainer = ml.Transforms.LH2Face(Options());
        // SchemaShape.Create is internal to ML.NET (see SchemaTests).
        var inputSchema = keyMap.Transform(TestFaces.PixelData(ml, TestFaces.PixelRows(1, 1, Size, 5), Size)).Schema;
        var inputShape = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic, new[] { typeof(DataViewSchema) })!
            .Invoke(null, new object[] { inputSchema })!;
        var shape = trainer.GetOutputSchema(inputShape);
        var transformed = face.Transform(heldOut).Schema;
        foreach (var name in new[] { "Reconstruction", "CanonicalFace" })
        {
            var column = shape.Single(c => c.Name == name);
            Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, column.Kind);
            Assert.AreEqual(NumberDataViewType.Single, column.ItemType);
            Assert.AreEqual(Values, ((VectorDataViewType)transformed[name].Type).Size);
        }
        Assert.AreEqual(Resolution, face.RendererResolution);
        Assert.AreEqual($"{Resolution}x{Resolution}", OnnxMetadata.Read(File.ReadAllBytes(ExportStandalone()))[LH2FaceModelMetadata.RendererResolution]);
    }

    [TestMethod]
    public void Options_BadRendererResolution_NamesTheOptionAndTheFix()
    {
        var options = Options();
        options.RendererResolution = 40;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "LH2FaceTrainer.Options.RendererResolution is 40; use a multiple of 16 from 16 to InputSize (32)");
    }

    [TestMethod]
    public void Options_BadFieldOfViewOrRendererRate_NameTheOptionAndTheFix()
    {
        var options = Options();
        options.RendererFieldOfView = 0.5f;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "LH2FaceTrainer.Options.RendererFieldOfView is 0.5; use an angle in degrees from 1 to 90");
        options = Options();
        options.RendererLearningRate = 0;
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "LH2FaceTrainer.Options.RendererLearningRate is 0; use a positive rate");
    }

    [TestMethod]
    public void Transform_RendererColumns_MatchTorchSharpWithin1e4OfTheRange()
    {
        var rows = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).ToList();
        var scored = ml.Data.CreateEnumerable<RenderedRow>(face.Transform(heldOut), reuseRowObject: false).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        var pixels = tensor(rows.SelectMany(r => r.Pixels).ToArray()).view(rows.Count, 3, Size, Size);
        var z = network.Features(pixels);
        var (embedding, _) = FaceNetwork.Split(z);
        var render = network.Renderer!.Render(embedding, z, withFlip: false);
        var reconstruction = FaceRenderer.ToPixels(render.Reconstruction).data<float>().ToArray();
        var canonical = FaceRenderer.ToPixels(render.Canonical).data<float>().ToArray();
        double maxDiff = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.HasCount(Values, scored[i].Reconstruction);
            for (int k = 0; k < Values; k++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(reconstruction[i * Values + k] - scored[i].Reconstruction[k]));
                maxDiff = Math.Max(maxDiff, Math.Abs(canonical[i * Values + k] - scored[i].CanonicalFace[k]));
            }
        }
        Assert.IsLessThan(255 * 1e-4, maxDiff, $"max |ONNX - TorchSharp| = {maxDiff:E2} on the 0..255 scale");
        Assert.IsGreaterThan(1.0, scored.SelectMany(r => r.Reconstruction).Max() - scored.SelectMany(r => r.Reconstruction).Min(), "a non-constant image");
    }

    [TestMethod]
    public void Render_HeldOutImages_MatchesTorchSharpIncludingTheDepth()
    {
        var rows = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).ToList();
        var rendered = face.Render(rows.Select(r => r.Pixels).ToList());
        var scored = ml.Data.CreateEnumerable<RenderedRow>(face.Transform(heldOut), reuseRowObject: false).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        var z = network.Features(tensor(rows.SelectMany(r => r.Pixels).ToArray()).view(rows.Count, 3, Size, Size));
        var (embedding, _) = FaceNetwork.Split(z);
        var depth = network.Renderer!.Render(embedding, z, withFlip: false).Depth.data<float>().ToArray();
        Assert.HasCount(rows.Count, rendered);
        int plane = Resolution * Resolution;
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.HasCount(plane, rendered[i].CanonicalDepth);
            for (int k = 0; k < plane; k++)
                Assert.AreEqual(depth[i * plane + k], rendered[i].CanonicalDepth[k], 1e-4, $"depth of image {i} at {k}");
            for (int k = 0; k < Values; k++)
            {
                Assert.AreEqual(scored[i].Reconstruction[k], rendered[i].Reconstruction[k], 1e-3, $"reconstruction of image {i} at {k}");
                Assert.AreEqual(scored[i].CanonicalFace[k], rendered[i].CanonicalFace[k], 1e-3, $"canonical face of image {i} at {k}");
            }
        }
    }

    [TestMethod]
    public void Render_WrongPixelCount_NamesTheInputSize()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => face.Render([new float[3 * 16 * 16]]));
        StringAssert.Contains(e.Message, "pixels[0] has 768 values; give planar RGB 0..255 at the input size (3072 = 3 x 32 x 32)");
    }

    [TestMethod]
    public void ModelZip_SaveAndLoad_KeepsTheRendererColumns_AndConvertToImageGivesImages()
    {
        var path = Path.Combine(workDir, "model.zip");
        ml.Model.Save(new TransformerChain<ITransformer>(keyMap, face), TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, path);
        var before = ml.Data.CreateEnumerable<RenderedRow>(face.Transform(heldOut), reuseRowObject: false).ToList();

        var fresh = new MLContext(seed: 2) { TempFilePath = Path.Combine(workDir, "loadtemp") };
        Directory.CreateDirectory(fresh.TempFilePath);
        var loaded = fresh.Model.Load(path, out _);
        var scored = loaded.Transform(heldOut);
        var after = fresh.Data.CreateEnumerable<RenderedRow>(scored, reuseRowObject: false).ToList();
        Assert.HasCount(before.Count, after);
        for (int i = 0; i < before.Count; i++)
        {
            CollectionAssert.AreEqual(before[i].Reconstruction, after[i].Reconstruction);
            CollectionAssert.AreEqual(before[i].CanonicalFace, after[i].CanonicalFace);
        }

        var images = fresh.Transforms.ConvertToImage(Resolution, Resolution, "ReconstructionImage", "Reconstruction", interleavedColors: false)
            .Fit(scored).Transform(scored);
        using var cursor = images.GetRowCursor(images.Schema);
        var getter = cursor.GetGetter<MLImage>(images.Schema["ReconstructionImage"]);
        MLImage image = null!;
        Assert.IsTrue(cursor.MoveNext());
        getter(ref image);
        Assert.AreEqual(Resolution, image.Width);
        var bytes = image.Pixels.ToArray();
        int bytesPerPixel = bytes.Length / (Resolution * Resolution);
        int red = image.PixelFormat == MLPixelFormat.Bgra32 ? 2 : 0;
        // Pixel (0, 5): the red plane's value, as a byte.
        Assert.AreEqual(after[0].Reconstruction[5], bytes[5 * bytesPerPixel + red], 1.0);
        (loaded as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void TypedLoad_RendererModel_RendersAndExportsAsTheTrainedOne()
    {
        var path = Path.Combine(workDir, "typed-renderer.zip");
        ml.Model.Save(new TransformerChain<ITransformer>(keyMap, face), TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, path);
        using var loaded = LH2FaceTransformer.Load(ml, path);
        Assert.AreEqual(face.RendererResolution, loaded.RendererResolution);
        Assert.AreEqual(face.ReconstructionColumnName, loaded.ReconstructionColumnName);
        Assert.AreEqual(face.CanonicalFaceColumnName, loaded.CanonicalFaceColumnName);
        var rebuilt = Path.Combine(workDir, "typed-renderer.onnx");
        loaded.ExportOnnx(rebuilt);
        CollectionAssert.AreEqual(File.ReadAllBytes(ExportStandalone()), File.ReadAllBytes(rebuilt), "the standalone graph, canonical depth included");
        var pixels = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).Take(2).Select(r => r.Pixels).ToList();
        var expected = face.Render(pixels);
        var actual = loaded.Render(pixels);
        for (int i = 0; i < pixels.Count; i++)
        {
            CollectionAssert.AreEqual(expected[i].Reconstruction, actual[i].Reconstruction);
            CollectionAssert.AreEqual(expected[i].CanonicalFace, actual[i].CanonicalFace);
            CollectionAssert.AreEqual(expected[i].CanonicalDepth, actual[i].CanonicalDepth);
        }
        var before = ml.Data.CreateEnumerable<RenderedRow>(face.Transform(heldOut), reuseRowObject: false).ToList();
        var after = ml.Data.CreateEnumerable<RenderedRow>(loaded.Transform(heldOut), reuseRowObject: false).ToList();
        for (int i = 0; i < before.Count; i++)
            CollectionAssert.AreEqual(before[i].Reconstruction, after[i].Reconstruction);
    }

    private static string ExportStandalone()
    {
        var path = Path.Combine(workDir, "standalone.onnx");
        face.ExportOnnx(path);
        return path;
    }
}

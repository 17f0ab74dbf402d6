using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.LH2Face.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.LH2Face.Tests.Persistence;

[TestClass]
public sealed class PersistenceTests
{
    private const int Size = 32;
    private static string workDir = "";
    private static MLContext ml = null!;
    private static IDataView train = null!;
    private static IDataView heldOut = null!;
    private static LH2FaceTransformer face = null!;
    private static FaceNetwork network = null!;
    private static ITransformer keyMap = null!;

    [ClassInitialize]
    public static void TrainOnce(TestContext _)
    {
        workDir = Directory.CreateTempSubdirectory("lh2face-persist-").FullName;
        ml = new MLContext(seed: 1) { TempFilePath = Path.Combine(workDir, "mltemp") };
        Directory.CreateDirectory(ml.TempFilePath);
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(6, 6, Size, 5), Size);
        keyMap = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw);
        train = keyMap.Transform(raw);
        heldOut = TestFaces.PixelData(ml, TestFaces.PixelRows(6, 2, Size, 5, firstSample: 50), Size);
        var options = TestFaces.QuickOptions(epochs: 3, batchSize: 12);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        var trainer = (LH2FaceTrainer)ml.Transforms.LH2Face(options);
        (face, var net) = trainer.FitCore(train, keepNetwork: true);
        network = net!;
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        face?.Dispose();
        network?.Dispose();
        Directory.Delete(workDir, recursive: true);
    }

    private static List<Scored> Score(ITransformer model, IDataView data)
        => ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).ToList();

    [TestMethod]
    public void Render_ModelWithoutRenderer_ThrowsNamingTheOption()
    {
        Assert.IsNull(face.RendererResolution);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => face.Render([new float[3 * Size * Size]]));
        StringAssert.Contains(e.Message, "LH2FaceTrainer.Options.UseRenderer = true");
    }

    [TestMethod]
    public void Transform_OnnxScoring_MatchesTorchSharpEvalWithin1e5()
    {
        var rows = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).ToList();
        var pixels = rows.SelectMany(r => r.Pixels).ToArray();
        var (torchEmbeddings, torchNorms) = Embedder.EmbedPixels(network, pixels, rows.Count, Size, TorchSharp.torch.CPU);
        var onnx = Score(face, heldOut);
        double maxDiff = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            for (int k = 0; k < 32; k++)
                maxDiff = Math.Max(maxDiff, Math.Abs(torchEmbeddings[i][k] - onnx[i].Embedding[k]));
            Assert.AreEqual(torchNorms[i], onnx[i].Quality[0], 1e-5 * torchNorms[i], "quality is the feature norm");
        }
        Assert.IsTrue(maxDiff < 1e-5, $"max |ONNX - TorchSharp| = {maxDiff:E2}");
    }

    [TestMethod]
    public void ModelFileVerify_SavedModel_PassesAndReportsSizes_EditedOrDamagedOnesAreRefused()
    {
        var chain = new TransformerChain<ITransformer>(keyMap, face);
        var path = Path.Combine(workDir, "verify.zip");
        ml.Model.Save(chain, TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, path);
        var info = LH2FaceModelFile.Verify(path);
        Assert.AreEqual(new LH2FaceModelFileInfo(1, Size, 32), info);

        // One weight bit changed and the zip written again (fresh CRCs): loadable by ML.NET, refused by Verify.
        var edited = Path.Combine(workDir, "edited.zip");
        File.Copy(path, edited, overwrite: true);
        using (var zip = System.IO.Compression.ZipFile.Open(edited, System.IO.Compression.ZipArchiveMode.Update))
        {
            var entry = zip.Entries.Single(e => e.Name == "OnnxModel");
            var name = entry.FullName;
            byte[] bytes;
            using (var stream = entry.Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            // The last float of the first initializer in the graph: find it through the parsed model, not by guessing.
            var model = global::Onnx.ModelProto.Parser.ParseFrom(bytes.AsSpan(4));
            var raw = model.Graph.Initializer.First(t => t.RawData.Length >= 4).RawData.ToByteArray();
            int at = bytes.AsSpan().IndexOf(raw);
            Assert.IsGreaterThan(0, at);
            bytes[at + raw.Length - 1] ^= 0x01;
            entry.Delete();
            using var write = zip.CreateEntry(name).Open();
            write.Write(bytes);
        }
        var e = Assert.ThrowsExactly<InvalidDataException>(() => LH2FaceModelFile.Verify(edited));
        StringAssert.Contains(e.Message, $"Model '{edited}', entry 'TransformerChain/");
        StringAssert.Contains(e.Message, "the ONNX graph (its weights or nodes) differs from the one saved");

        var truncated = Path.Combine(workDir, "truncated.zip");
        File.WriteAllBytes(truncated, File.ReadAllBytes(path)[..(int)(new FileInfo(path).Length * 2 / 3)]);
        e = Assert.ThrowsExactly<InvalidDataException>(() => LH2FaceModelFile.Verify(truncated));
        StringAssert.Contains(e.Message, $"Model '{truncated}' is not a readable model.zip");

        Assert.ThrowsExactly<FileNotFoundException>(() => LH2FaceModelFile.Verify(Path.Combine(workDir, "none.zip")));
    }

    [TestMethod]
    public void ModelZip_SaveAndLoad_GivesIdenticalEmbeddingsAndPredictionEngineWorks()
    {
        var chain = new TransformerChain<ITransformer>(keyMap, face);
        var path = Path.Combine(workDir, "model.zip");
        ml.Model.Save(chain, TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, path);
        var before = Score(face, heldOut);

        var fresh = new MLContext(seed: 2) { TempFilePath = Path.Combine(workDir, "loadtemp") };
        Directory.CreateDirectory(fresh.TempFilePath);
        var loaded = fresh.Model.Load(path, out var inputSchema);
        Assert.AreEqual(3 * Size * Size, ((VectorDataViewType)inputSchema[nameof(PixelRow.Pixels)].Type).Size);
        var after = fresh.Data.CreateEnumerable<Scored>(loaded.Transform(heldOut), reuseRowObject: false).ToList();
        Assert.AreEqual(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            CollectionAssert.AreEqual(before[i].Embedding, after[i].Embedding, "bit-identical embeddings after Load");
            CollectionAssert.AreEqual(before[i].Quality, after[i].Quality);
        }

        var engine = fresh.Model.CreatePredictionEngine<PixelRow, Scored>(loaded, inputSchemaDefinition: PixelDefinition());
        var one = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).First();
        var predicted = engine.Predict(one);
        CollectionAssert.AreEqual(before[0].Embedding, predicted.Embedding);
        engine.Dispose();
        (loaded as IDisposable)?.Dispose();
        Assert.AreEqual(0, Directory.GetFiles(fresh.TempFilePath).Length, "the loaded model's ONNX copy is removed when it is disposed");
    }

    [TestMethod]
    public void TypedLoad_ModelZip_RebuildsTheTransformer_WhilePlainLoadKeepsWorking()
    {
        var chain = new TransformerChain<ITransformer>(keyMap, face);
        var path = Path.Combine(workDir, "typed.zip");
        ml.Model.Save(chain, TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, path);
        var fresh = new MLContext(seed: 3) { TempFilePath = Path.Combine(workDir, "typedtemp") };
        Directory.CreateDirectory(fresh.TempFilePath);

        using var loaded = LH2FaceTransformer.Load(fresh, path);
        Assert.AreEqual(Size, loaded.InputSize);
        Assert.AreEqual(32, loaded.EmbeddingSize);
        Assert.AreEqual(face.EmbeddingColumnName, loaded.EmbeddingColumnName);
        Assert.AreEqual(face.QualityColumnName, loaded.QualityColumnName);
        Assert.IsNull(loaded.RendererResolution);
        var (a, b) = (face.TrainingSummary, loaded.TrainingSummary);
        Assert.AreEqual(a.Steps, b.Steps);
        Assert.AreEqual(a.PlannedSteps, b.PlannedSteps);
        CollectionAssert.AreEqual(a.EpochLosses.ToArray(), b.EpochLosses.ToArray(), "epoch losses read back exactly");
        CollectionAssert.AreEqual(a.ValidationAccuracies.ToArray(), b.ValidationAccuracies.ToArray());
        Assert.AreEqual(a.BestValidationAccuracy, b.BestValidationAccuracy);
        Assert.AreEqual(a.BestEpoch, b.BestEpoch);
        Assert.AreEqual(a.StoppedEarly, b.StoppedEarly);
        Assert.AreEqual(a.Duration, b.Duration);
        CollectionAssert.AreEquivalent(face.ModelMetadata.ToList(), loaded.ModelMetadata.ToList());

        // The standalone graph is rebuilt from the saved weights: the same bytes as the trained transformer's export.
        string original = Path.Combine(workDir, "typed-original.onnx"), rebuilt = Path.Combine(workDir, "typed-rebuilt.onnx");
        face.ExportOnnx(original);
        loaded.ExportOnnx(rebuilt);
        CollectionAssert.AreEqual(File.ReadAllBytes(original), File.ReadAllBytes(rebuilt), "ExportOnnx of the loaded model");

        // The file names its columns: an embedder needs no guess (the image column here is "Pixels", not "Image").
        var alone = Path.Combine(workDir, "typed-alone.zip");
        ml.Model.Save(face, TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, alone);
        var model = LH2FaceModelFile.ReadInterface(alone)!;
        Assert.AreEqual(new LH2FaceModelInterface(Size, 32, nameof(PixelRow.Pixels), TakesImages: false, face.EmbeddingColumnName, face.QualityColumnName), model);
        var planar = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).Select(r => r.Pixels).ToList();
        using (var embedder = new Data.Embedding.MlNetModelEmbedder(alone, model.InputSize, fresh, model.ImageColumnName, model.EmbeddingColumnName))
        {
            var embedded = embedder.Embed(planar, flipTest: false);
            var expected = Score(face, heldOut);
            for (int i = 0; i < planar.Count; i++)
                CollectionAssert.AreEqual(expected[i].Embedding, embedded[i], "MlNetModelEmbedder with the named columns");
        }

        var before = Score(face, heldOut);
        var typed = Score(loaded, heldOut);
        var plainModel = fresh.Model.Load(path, out _);
        var plain = fresh.Data.CreateEnumerable<Scored>(plainModel.Transform(heldOut), reuseRowObject: false).ToList();
        (plainModel as IDisposable)?.Dispose();
        for (int i = 0; i < before.Count; i++)
        {
            CollectionAssert.AreEqual(before[i].Embedding, typed[i].Embedding, "typed load: bit-identical embeddings");
            CollectionAssert.AreEqual(before[i].Quality, typed[i].Quality);
            CollectionAssert.AreEqual(before[i].Embedding, plain[i].Embedding, "plain ML.NET load: bit-identical embeddings");
        }
    }

    [TestMethod]
    public void TypedLoad_ModelWithoutTheTransformerMetadata_SaysHowToLoadIt()
    {
        var path = Path.Combine(workDir, "older.zip");
        ml.Model.Save(face, TestFaces.PixelData(ml, Array.Empty<PixelRow>(), Size).Schema, path);
        // A model.zip as an earlier version wrote it: the same graph, without the lh2face.transformer key.
        var older = Path.Combine(workDir, "older-edited.zip");
        using (var source = System.IO.Compression.ZipFile.OpenRead(path))
        using (var target = System.IO.Compression.ZipFile.Open(older, System.IO.Compression.ZipArchiveMode.Create))
        {
            foreach (var entry in source.Entries)
            {
                using var input = entry.Open();
                using var buffer = new MemoryStream();
                input.CopyTo(buffer);
                var bytes = buffer.ToArray();
                if (entry.FullName.EndsWith("OnnxModel", StringComparison.Ordinal))
                {
                    var model = global::Onnx.ModelProto.Parser.ParseFrom(bytes.AsSpan(4));
                    var key = model.MetadataProps.Single(p => p.Key == LH2FaceModelMetadata.Transformer);
                    model.MetadataProps.Remove(key);
                    var onnx = Google.Protobuf.MessageExtensions.ToByteArray(model);
                    bytes = BitConverter.GetBytes(onnx.Length).Concat(onnx).ToArray();
                }
                using var output = target.CreateEntry(entry.FullName).Open();
                output.Write(bytes);
            }
        }
        Assert.AreEqual(1, LH2FaceModelFile.Verify(older).Graphs, "the graph itself is intact");
        Assert.IsNull(LH2FaceModelFile.ReadInterface(older), "an earlier version named no columns");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => LH2FaceTransformer.Load(ml, older));
        StringAssert.Contains(e.Message, older);
        StringAssert.Contains(e.Message, "mlContext.Model.Load");
        Assert.ThrowsExactly<FileNotFoundException>(() => LH2FaceTransformer.Load(ml, Path.Combine(workDir, "none.zip")));
    }

    [TestMethod]
    public void ExportOnnx_StandaloneFile_RunsInOnnxRuntimeWithBatchAndMetadata()
    {
        var path = Path.Combine(workDir, "face.onnx");
        face.ExportOnnx(path);
        Assert.AreEqual(0, Directory.GetFiles(workDir, "*.tmp").Length);
        var rows = ml.Data.CreateEnumerable<PixelRow>(heldOut, reuseRowObject: false).Take(3).ToList();
        var expected = Score(face, heldOut).Take(3).ToList();
        using var session = new InferenceSession(path);
        Assert.AreEqual("pixels", session.InputMetadata.Keys.Single());
        CollectionAssert.AreEqual(new[] { -1, 3, Size, Size }, session.InputMetadata["pixels"].Dimensions);
        CollectionAssert.AreEqual(new[] { "embedding", "quality" }, session.OutputMetadata.Keys.ToArray());
        var input = new DenseTensor<float>(rows.SelectMany(r => r.Pixels).ToArray(), new[] { 3, 3, Size, Size });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("pixels", input) });
        var embedding = results.First(r => r.Name == "embedding").AsTensor<float>();
        var quality = results.First(r => r.Name == "quality").AsTensor<float>();
        CollectionAssert.AreEqual(new[] { 3, 32 }, embedding.Dimensions.ToArray());
        CollectionAssert.AreEqual(new[] { 3 }, quality.Dimensions.ToArray());
        for (int i = 0; i < 3; i++)
        {
            for (int k = 0; k < 32; k++)
                Assert.AreEqual(expected[i].Embedding[k], embedding[i, k], 1e-5);
            Assert.AreEqual(expected[i].Quality[0], quality[i], 1e-4);
        }
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.AreEqual("1", metadata[LH2FaceModelMetadata.FormatVersion]);
        Assert.AreEqual("32", metadata[LH2FaceModelMetadata.EmbeddingSize]);
        Assert.AreEqual("32x32", metadata[LH2FaceModelMetadata.InputSize]);
        StringAssert.Contains(metadata[LH2FaceModelMetadata.Head], "LH2Face(margin=Angular");
        StringAssert.Contains(metadata[LH2FaceModelMetadata.TrainingSummary], "\"steps\":9");
        Assert.AreEqual(17, OnnxSharpOpset(path));
    }

    [TestMethod]
    public void Dispose_RemovesTheTransformersOnnxFiles()
    {
        var options = TestFaces.QuickOptions(epochs: 1, batchSize: 12);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        var other = ml.Transforms.LH2Face(options).Fit(train);
        var dir = other.TemporaryDirectory;
        Assert.IsTrue(Directory.GetFiles(dir, "*.onnx").Length == 1, "one ONNX file while the transformer lives");
        _ = Score(other, heldOut);
        other.Dispose();
        Assert.IsFalse(Directory.Exists(dir), "no .onnx copies remain after Dispose");
        Assert.ThrowsExactly<ObjectDisposedException>(() => other.Transform(heldOut));
    }

    private static long OnnxSharpOpset(string path)
        => global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).OpsetImport.Single(o => o.Domain == "").Version;

    private static SchemaDefinition PixelDefinition()
    {
        var definition = SchemaDefinition.Create(typeof(PixelRow));
        definition[nameof(PixelRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * Size * Size);
        return definition;
    }

    public sealed class Scored
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();

        public float[] Quality { get; set; } = Array.Empty<float>();
    }
}

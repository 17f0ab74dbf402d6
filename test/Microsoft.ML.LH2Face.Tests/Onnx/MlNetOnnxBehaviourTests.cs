using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.Transforms.Onnx;

namespace Microsoft.ML.LH2Face.Tests.Onnx;

/// <summary>
/// Regression tests of how ML.NET 5.0.1's OnnxTransformer treats graphs like the ones this library
/// exports. The design relies on these facts; if an ML.NET update changes one, a test here fails.
/// </summary>
[TestClass]
public sealed class MlNetOnnxBehaviourTests
{
    private sealed class Row
    {
        [VectorType(48)]
        public float[] Pixels { get; set; } = new float[48];
    }

    private sealed class FlatOut
    {
        [VectorType(8)]
        [ColumnName("embedding_flat")]
        public float[] Embedding { get; set; } = [];
    }

    private sealed class BatchedOut1x8
    {
        [VectorType(1, 8)]
        [ColumnName("embedding")]
        public float[] Embedding { get; set; } = [];
    }

    private sealed class BatchedOut8
    {
        [VectorType(8)]
        [ColumnName("embedding")]
        public float[] Embedding { get; set; } = [];
    }

    private sealed class BatchedOut9
    {
        [VectorType(9)]
        [ColumnName("embedding")]
        public float[] Embedding { get; set; } = [];
    }

    private sealed class BatchedOutNoAttr
    {
        [ColumnName("embedding")]
        public float[] Embedding { get; set; } = [];
    }

    private static readonly string[] Outputs = ["embedding", "embedding_flat", "quality", "quality_keep", "quality_scalar"];

    private static float[] Weights()
    {
        var w = new float[48 * 8];
        for (int i = 0; i < w.Length; i++) w[i] = (i % 7 - 3) / 10f;
        return w;
    }

    /// <summary>pixels [batch,3,4,4] -> embedding [batch,8], embedding_flat [8], quality [batch],
    /// quality_keep [batch,1], quality_scalar [].</summary>
    private static byte[] Model(object batch)
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("pixels", batch, 3, 4, 4);
        string emb = g.MatMul(g.Flatten(x, 1), g.Initializer("w", Weights(), 48, 8));
        g.AddOutput("embedding", batch, 8);
        g.Identity(emb, "embedding");
        g.AddOutput("embedding_flat", 8);
        g.Identity(g.Reshape(emb, -1), "embedding_flat");
        g.AddOutput("quality", batch);
        g.Identity(g.ReduceMean(emb, [1], keepdims: false), "quality");
        g.AddOutput("quality_keep", batch, 1);
        g.Identity(g.ReduceMean(emb, [1], keepdims: true), "quality_keep");
        g.AddOutput("quality_scalar");
        g.Identity(g.ReduceMean(emb, [0, 1], keepdims: false), "quality_scalar");
        return g.ToBytes();
    }

    private static Row[] Rows()
    {
        var rows = new Row[3];
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = new Row();
            for (int i = 0; i < 48; i++) rows[r].Pixels[i] = (i + 3 * r) % 11 / 11f;
        }
        return rows;
    }

    private static double[] ExpectedEmbedding(float[] pixels)
    {
        var w = Weights();
        var e = new double[8];
        for (int j = 0; j < 8; j++)
            for (int i = 0; i < 48; i++)
                e[j] += (double)pixels[i] * w[i * 8 + j];
        return e;
    }

    /// <summary>A fresh MLContext whose TempFilePath is a new empty directory.</summary>
    private static (MLContext Ml, string Temp) NewContext()
    {
        string temp = Path.Combine(Path.GetTempPath(), "lh2face-mlnet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        return (new MLContext(seed: 1) { TempFilePath = temp }, temp);
    }

    private static int FileCount(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Length;

    private static IDataView Input(MLContext ml) =>
        ml.Transforms.CopyColumns("pixels", "Pixels").Fit(ml.Data.LoadFromEnumerable(Rows())).Transform(ml.Data.LoadFromEnumerable(Rows()));

    private static ITransformer FromStream(MLContext ml, byte[] model, IDataView input, params string[] outputs)
    {
        using var stream = new MemoryStream(model);
        return ml.Transforms.ApplyOnnxModel(outputs.Length == 0 ? Outputs : outputs, ["pixels"], stream).Fit(input);
    }

    private static void Cleanup(string temp, params ITransformer[] transformers)
    {
        foreach (var t in transformers) (t as IDisposable)?.Dispose();
        Directory.Delete(temp, recursive: true);
    }

    [TestMethod]
    [DataRow("N")]
    [DataRow(1)]
    public void OutputShapes_MapToTheseColumnTypes(object batch)
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        var transformer = FromStream(ml, Model(batch), input);
        try
        {
            var schema = transformer.Transform(input).Schema;

            // A leading symbolic (-1) or fixed-1 batch dim is kept as a 1: [N,8] and [1,8] -> Vector<Single, 1, 8>.
            var emb = (VectorDataViewType)schema["embedding"].Type;
            CollectionAssert.AreEqual(new[] { 1, 8 }, emb.Dimensions.ToArray());
            Assert.AreEqual(8, emb.Size);
            Assert.AreEqual(NumberDataViewType.Single, emb.ItemType);

            // Only a rank-1 output gives Vector<Single, 8>.
            CollectionAssert.AreEqual(new[] { 8 }, ((VectorDataViewType)schema["embedding_flat"].Type).Dimensions.ToArray());

            // [N] -> Vector<Single, 1>; [N,1] -> Vector<Single, 1, 1>: neither is a scalar column.
            CollectionAssert.AreEqual(new[] { 1 }, ((VectorDataViewType)schema["quality"].Type).Dimensions.ToArray());
            CollectionAssert.AreEqual(new[] { 1, 1 }, ((VectorDataViewType)schema["quality_keep"].Type).Dimensions.ToArray());

            // Rank 0 [] is the only shape that gives a scalar Single column in the schema (but see
            // RankZeroOutput_CannotBeRead).
            Assert.AreEqual(NumberDataViewType.Single, schema["quality_scalar"].Type);
        }
        finally
        {
            Cleanup(temp, transformer);
        }
    }

    [TestMethod]
    public void VectorOutputs_ScoreRowByRow_WithABatchOfOne()
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        var transformer = FromStream(ml, Model("N"), input);
        try
        {
            var scored = transformer.Transform(input);
            var rows = Rows();
            var flat = scored.GetColumn<float[]>("embedding_flat").ToArray();
            var batched = scored.GetColumn<float[]>("embedding").ToArray();
            var quality = scored.GetColumn<float[]>("quality").ToArray();
            Assert.HasCount(rows.Length, flat);
            for (int r = 0; r < rows.Length; r++)
            {
                var expected = ExpectedEmbedding(rows[r].Pixels);
                Assert.HasCount(8, flat[r]);
                Assert.HasCount(8, batched[r]);
                for (int j = 0; j < 8; j++)
                {
                    Assert.AreEqual(expected[j], flat[r][j], 1e-5);
                    Assert.AreEqual(expected[j], batched[r][j], 1e-5);
                }
                // ReduceMean over [0,1] / Reshape(-1) see one row: ML.NET feeds each row as its own batch of 1.
                Assert.HasCount(1, quality[r]);
                Assert.AreEqual(expected.Average(), quality[r][0], 1e-5);
            }
        }
        finally
        {
            Cleanup(temp, transformer);
        }
    }

    [TestMethod]
    public void CreateEnumerable_IgnoresVectorDimsWhenReadingOut()
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        var transformer = FromStream(ml, Model("N"), input, "embedding", "embedding_flat");
        try
        {
            var scored = transformer.Transform(input);
            Assert.HasCount(3, ml.Data.CreateEnumerable<FlatOut>(scored, reuseRowObject: false).ToList());
            Assert.HasCount(3, ml.Data.CreateEnumerable<BatchedOut1x8>(scored, reuseRowObject: false).ToList());
            Assert.HasCount(3, ml.Data.CreateEnumerable<BatchedOutNoAttr>(scored, reuseRowObject: false).ToList());
            // A Vector<Single, 1, 8> column binds to [VectorType(8)] too ...
            var rows = ml.Data.CreateEnumerable<BatchedOut8>(scored, reuseRowObject: false).ToList();
            Assert.HasCount(8, rows[0].Embedding);
            // ... and even to a wrong size: reading out, the VectorType attribute is not checked.
            var wrong = ml.Data.CreateEnumerable<BatchedOut9>(scored, reuseRowObject: false).ToList();
            Assert.HasCount(8, wrong[0].Embedding);
        }
        finally
        {
            Cleanup(temp, transformer);
        }
    }

    [TestMethod]
    [DataRow("N")]
    [DataRow(1)]
    public void RankZeroOutput_CannotBeRead(object batch)
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        var transformer = FromStream(ml, Model(batch), input, "quality_scalar");
        try
        {
            var scored = transformer.Transform(input);
            Assert.AreEqual(NumberDataViewType.Single, scored.Schema["quality_scalar"].Type);
            // ML.NET 5.0.1's getter for a non-vector output throws ArgumentNullException inside the cursor.
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => scored.GetColumn<float>("quality_scalar").ToList());
            Assert.IsInstanceOfType<ArgumentNullException>(e.InnerException);
        }
        finally
        {
            Cleanup(temp, transformer);
        }
    }

    [TestMethod]
    public void InputColumnNames_MustBeTheOnnxInputNames()
    {
        var (ml, temp) = NewContext();
        var data = ml.Data.LoadFromEnumerable(Rows());
        try
        {
            // There is no column -> ONNX input mapping: inputColumnNames are ONNX input names.
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            {
                using var stream = new MemoryStream(Model("N"));
                ml.Transforms.ApplyOnnxModel(["embedding_flat"], ["Pixels"], stream).Fit(data);
            });
            // ... and that failed call left its temp copy of the model behind.
            Assert.AreEqual(1, FileCount(temp));

            // CopyColumns in front of it works.
            using var stream = new MemoryStream(Model("N"));
            var pipeline = ml.Transforms.CopyColumns("pixels", "Pixels")
                .Append(ml.Transforms.ApplyOnnxModel(["embedding_flat"], ["pixels"], stream));
            var model = pipeline.Fit(data);
            Assert.HasCount(3, model.Transform(data).GetColumn<float[]>("embedding_flat").ToList());
            (model as IDisposable)?.Dispose();
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [TestMethod]
    public void SaveLoad_OfStreamCreatedTransformer_GivesIdenticalOutputs()
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        var transformer = FromStream(ml, Model("N"), input, "embedding", "embedding_flat", "quality", "quality_keep");
        string zip = temp + ".zip";
        ITransformer? loaded = null;
        try
        {
            ml.Model.Save(transformer, input.Schema, zip);
            loaded = ml.Model.Load(zip, out var loadedSchema);
            Assert.IsInstanceOfType<OnnxTransformer>(loaded);
            Assert.AreEqual(48, ((VectorDataViewType)loadedSchema["pixels"].Type).Size);

            var a = transformer.Transform(input);
            var b = loaded.Transform(input);
            foreach (var col in new[] { "embedding", "embedding_flat", "quality", "quality_keep" })
            {
                Assert.AreEqual(a.Schema[col].Type, b.Schema[col].Type, col);
                CollectionAssert.AreEqual(
                    a.GetColumn<float[]>(col).SelectMany(v => v).ToArray(),
                    b.GetColumn<float[]>(col).SelectMany(v => v).ToArray(), col);
            }
        }
        finally
        {
            (loaded as IDisposable)?.Dispose();
            Cleanup(temp, transformer);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void TempFiles_StreamOverloadLeaksItsModelCopy_LoadedOneCleansUp()
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        string zip = temp + ".zip";
        try
        {
            var transformer = FromStream(ml, Model("N"), input);
            Assert.AreEqual(1, FileCount(temp), "ApplyOnnxModel(Stream) copies the model into TempFilePath");

            ml.Model.Save(transformer, input.Schema, zip);
            Assert.AreEqual(1, FileCount(temp), "Save adds no temp file");

            var loaded = ml.Model.Load(zip, out _);
            Assert.AreEqual(2, FileCount(temp), "Load copies the model into TempFilePath");
            _ = loaded.Transform(input).GetColumn<float[]>("embedding").ToList();

            ((IDisposable)loaded).Dispose();
            Assert.AreEqual(1, FileCount(temp), "the loaded transformer deletes its copy on Dispose");

            ((IDisposable)transformer).Dispose();
            Assert.AreEqual(1, FileCount(temp), "the stream-created transformer does NOT delete its copy on Dispose");
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
            File.Delete(zip);
        }
    }

    [TestMethod]
    public void PathOverload_MakesNoCopy_ButSaveRereadsTheFile()
    {
        var (ml, temp) = NewContext();
        var input = Input(ml);
        string own = Path.Combine(temp + "-own", "model.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(own)!);
        File.WriteAllBytes(own, Model("N"));
        string zip = temp + ".zip";
        var transformer = ml.Transforms.ApplyOnnxModel(Outputs[..2], ["pixels"], own).Fit(input);
        try
        {
            Assert.AreEqual(0, FileCount(temp), "ApplyOnnxModel(path) uses the file in place");
            ml.Model.Save(transformer, input.Schema, zip);
            ((IDisposable)transformer).Dispose();
            Assert.IsTrue(File.Exists(own), "Dispose leaves the caller's file alone");

            // Scoring still works once the file is gone (the session is in memory), Save does not.
            var again = ml.Transforms.ApplyOnnxModel(Outputs[..2], ["pixels"], own).Fit(input);
            File.Delete(own);
            Assert.HasCount(3, again.Transform(input).GetColumn<float[]>("embedding").ToList());
            Assert.ThrowsExactly<FileNotFoundException>(() => ml.Model.Save(again, input.Schema, zip + "2"));
            ((IDisposable)again).Dispose();
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
            Directory.Delete(Path.GetDirectoryName(own)!, recursive: true);
            File.Delete(zip);
            File.Delete(zip + "2");
        }
    }
}

using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Training;

/// <summary>Fit with Options.Precision = BFloat16: it trains, says so, writes a float32 model, and resumes exactly.</summary>
[TestClass]
public sealed class BFloat16TrainingTests
{
    private const int Size = 32;

    /// <summary>6 identities x 4 images at 32 px, labels keyed: 3 steps of 8 per epoch.</summary>
    private static IDataView Data(MLContext ml)
    {
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(identities: 6, samples: 4, Size, seed: 5), Size);
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw).Transform(raw);
    }

    private static LH2FaceTrainer.Options Options(LH2FacePrecision precision, int epochs)
    {
        var options = TestFaces.QuickOptions(epochs, batchSize: 8);
        options.Precision = precision;
        options.DropoutRate = 0.1f;
        options.ImageColumnName = nameof(PixelRow.Pixels);
        return options;
    }

    private static (float[] Losses, float[] Embeddings, List<string> Log) Fit(LH2FaceTrainer.Options options) => TestFaces.FitAndRecord(Data(new MLContext(seed: 1)), options);

    [TestMethod]
    public void Fit_BFloat16_TrainsNearFloat32AndLogsThePrecision()
    {
        var full = Fit(Options(LH2FacePrecision.Float32, epochs: 4));
        var low = Fit(Options(LH2FacePrecision.BFloat16, epochs: 4));
        Assert.HasCount(12, low.Losses);
        Assert.IsTrue(low.Losses.All(float.IsFinite));
        // The first step starts from the same weights and batch: only the trunk's number format differs.
        Assert.AreNotEqual(full.Losses[0], low.Losses[0], "the first loss must show bfloat16 arithmetic");
        Assert.AreEqual(full.Losses[0], low.Losses[0], 0.02 * Math.Abs(full.Losses[0]), "the first loss within 2 % of float32's");
        Assert.IsLessThan(low.Losses.Take(3).Average(), low.Losses.TakeLast(3).Average(), "bfloat16 training lowers the loss");
        Assert.IsLessThan(0.25 * full.Losses.TakeLast(3).Average() + full.Losses.TakeLast(3).Average(), low.Losses.TakeLast(3).Average(), "and ends near float32's");
        Assert.IsTrue(low.Embeddings.All(float.IsFinite));
        StringAssert.Contains(low.Log.Single(l => l.StartsWith("Precision:", StringComparison.Ordinal)), "computes in bfloat16 in training passes");
        StringAssert.Contains(low.Log.Single(l => l.StartsWith("Convolution self-check", StringComparison.Ordinal)), "shapes in bfloat16 within 0.02");
        Assert.IsFalse(full.Log.Any(l => l.StartsWith("Precision:", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Resume_BFloat16RunCancelledMidEpoch_ReproducesTheUninterruptedLosses()
    {
        var dir = Directory.CreateTempSubdirectory("lh2face-bf16-ckpt-").FullName;
        try
        {
            var full = Fit(Options(LH2FacePrecision.BFloat16, epochs: 3));
            using var cts = new CancellationTokenSource();
            var killed = Options(LH2FacePrecision.BFloat16, epochs: 3);
            killed.CheckpointDirectory = dir;
            killed.CheckpointEveryNSteps = 2;
            killed.CancellationToken = cts.Token;
            killed.Progress = new ProgressRecorder { OnReport = p => { if (p.Step == 5) cts.Cancel(); } };
            Assert.ThrowsExactly<OperationCanceledException>(() => new MLContext(1).Transforms.LH2Face(killed).Fit(Data(new MLContext(1))));

            var other = Options(LH2FacePrecision.Float32, epochs: 3);
            other.ResumeFrom = dir;
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => new MLContext(1).Transforms.LH2Face(other).Fit(Data(new MLContext(1))));
            StringAssert.Contains(refused.Message, "precision=BFloat16");

            var resumed = Options(LH2FacePrecision.BFloat16, epochs: 3);
            resumed.ResumeFrom = dir;
            var after = Fit(resumed);
            CollectionAssert.AreEqual(full.Losses.Skip(4).ToArray(), after.Losses);
            CollectionAssert.AreEqual(full.Embeddings, after.Embeddings);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Options_UnknownPrecision_ThrowsNamingTheOption()
    {
        var options = TestFaces.QuickOptions();
        options.Precision = (LH2FacePrecision)7;
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).Transforms.LH2Face(options));
        StringAssert.Contains(error.Message, "Precision");
        var set = new LH2FaceTrainer.Options();
        set.Set("Precision", "bfloat16");
        Assert.AreEqual(LH2FacePrecision.BFloat16, set.Precision);
    }

    [TestMethod]
    public void Describe_NamesTheHardwareSupport()
    {
        string line = TrainingSession.DescribeBFloat16(CPU);
        StringAssert.Contains(line, CpuDescription.HasBFloat16Instructions() ? "This CPU has bfloat16 instructions" : "likely slower than float32");
    }
}

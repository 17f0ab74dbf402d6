using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class StepTimingTests
{
    private const int Size = 32;

    /// <summary>Runs a session on <paramref name="train"/> (the network disposed) and returns its summary.</summary>
    private static LH2FaceTrainingSummary Train(LH2FaceTrainer.Options options, FaceImageSet train, Action<StepTiming>? timings)
    {
        var result = new TrainingSession(InputValidation.CheckOptions(options), train, null, _ => { }) { StepTimings = timings }.Run();
        result.Network.Dispose();
        return result.Summary;
    }

    [TestMethod]
    public void StepTimings_OneRecordPerStepWithinItsWallTime_AndTheLossesUnchanged()
    {
        var ml = new MLContext(seed: 1);
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(4, 4, Size, seed: 15), Size);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw).Transform(raw);
        var train = FaceImageSet.Load(data, "Label", nameof(PixelRow.Pixels), Size, long.MaxValue, "training data", CancellationToken.None);
        // 16 images, batch 8: 2 steps per epoch, 4 steps; the defaults' kappa-ranking copies are on (2 of 8).
        LH2FaceTrainer.Options Options(IProgress<LH2FaceProgress>? progress)
        {
            var options = TestFaces.QuickOptions(epochs: 2, batchSize: 8);
            options.ImageColumnName = nameof(PixelRow.Pixels);
            options.DropoutRate = 0.1f;
            options.Progress = progress;
            return options;
        }

        var plainLosses = new List<float>();
        var plain = Train(Options(new ProgressRecorder(p => plainLosses.Add(p.Loss))), train, timings: null);
        var timings = new List<StepTiming>();
        var timed = Train(Options(new ProgressRecorder(_ => { })), train, timings.Add);

        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4 }, timings.Select(t => t.Step).ToArray());
        CollectionAssert.AreEqual(plainLosses, timings.Select(t => t.Loss).ToList(), "the step losses with the hook set");
        CollectionAssert.AreEqual(plain.EpochLosses.ToArray(), timed.EpochLosses.ToArray(), "the epoch losses with the hook set");
        foreach (var t in timings)
        {
            var buckets = new[] { t.LoaderWait, t.PixelCopy, t.Copies, t.Forward, t.Bookkeeping, t.Backward, t.Optimizer };
            Assert.IsTrue(buckets.All(b => b >= 0), $"step {t.Step}: a negative bucket in {t}");
            Assert.IsTrue(buckets.Sum() <= t.Total + 1e-6, $"step {t.Step}: the buckets add up to more than the step's wall time: {t}");
            Assert.IsTrue(t.Other >= -1e-6, $"step {t.Step}: {t}");
            Assert.IsTrue(t.PixelCopy > 0 && t.Forward > 0 && t.Backward > 0 && t.Optimizer > 0 && t.Copies > 0 && t.Bookkeeping > 0, $"step {t.Step}: a phase that ran was not timed: {t}");
        }
    }
}

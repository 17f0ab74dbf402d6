using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class TrainingLoopTests
{
    private const int Size = 32;
    private static readonly MLContext Ml = new(seed: 1);

    private static IDataView KeyedPixels(int identities, int samples, int seed, int firstSample = 0)
    {
        var raw = TestFaces.PixelData(Ml, TestFaces.PixelRows(identities, samples, Size, seed, firstSample), Size);
        return Ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(raw).Transform(raw);
    }

    private static LH2FaceTrainer.Options Options(int epochs = 2, int batchSize = 8)
    {
        var options = TestFaces.QuickOptions(epochs, batchSize);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.DropoutRate = 0.1f; // exercises the per-step dropout seeding
        return options;
    }

    private static float[] Embeddings(ITransformer model, IDataView data)
        => Ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).SelectMany(r => r.Embedding).ToArray();

    [TestMethod]
    public void Fit_SameSeedOnCpu_GivesTheSameModel()
    {
        var data = KeyedPixels(4, 4, seed: 11);
        var held = KeyedPixels(4, 1, seed: 11, firstSample: 20);
        using var a = Ml.Transforms.LH2Face(Options()).Fit(data);
        using var b = Ml.Transforms.LH2Face(Options()).Fit(data);
        CollectionAssert.AreEqual(Embeddings(a, held), Embeddings(b, held));
        var other = Options();
        other.Seed = 8;
        using var c = Ml.Transforms.LH2Face(other).Fit(data);
        CollectionAssert.AreNotEqual(Embeddings(a, held), Embeddings(c, held));
    }

    [TestMethod]
    [TestCategory("Renderer")]
    [DataRow(false, DisplayName = "recognition only")]
    [DataRow(true, DisplayName = "with the renderer (its own Adam state)")]
    public void Resume_FromCheckpointOfKilledRun_ReproducesTheUninterruptedLosses(bool renderer)
    {
        var data = KeyedPixels(6, 4, seed: 12); // 24 images, batch 8: 3 steps per epoch
        var dir = Directory.CreateTempSubdirectory("lh2face-ckpt-").FullName;
        LH2FaceTrainer.Options Options(int epochs)
        {
            var options = TrainingLoopTests.Options(epochs);
            options.UseRenderer = renderer;
            options.RendererResolution = 16;
            return options;
        }
        try
        {
            var full = new ProgressRecorder();
            var uninterrupted = Options(epochs: 3);
            uninterrupted.Progress = full;
            using (Ml.Transforms.LH2Face(uninterrupted).Fit(data)) { }
            Assert.AreEqual(9, full.Reports.Count);

            using var cts = new CancellationTokenSource();
            var killed = Options(epochs: 3);
            killed.CheckpointDirectory = dir;
            killed.CheckpointEveryNSteps = 2;
            killed.CancellationToken = cts.Token;
            killed.Progress = new ProgressRecorder { OnReport = p => { if (p.Step == 4) cts.Cancel(); } };
            Assert.ThrowsExactly<OperationCanceledException>(() => Ml.Transforms.LH2Face(killed).Fit(data));
            Assert.AreEqual("step-00000004", File.ReadAllText(Path.Combine(dir, "latest")));
            Assert.AreEqual(renderer, File.Exists(Path.Combine(dir, "step-00000004", "renderer-optimizer.bin")));

            var resumedLog = new ProgressRecorder();
            var resumed = Options(epochs: 3);
            resumed.ResumeFrom = dir;
            resumed.Progress = resumedLog;
            using var model = Ml.Transforms.LH2Face(resumed).Fit(data);
            CollectionAssert.AreEqual(new long[] { 5, 6, 7, 8, 9 }, resumedLog.Reports.Select(r => r.Step).ToArray());
            for (int i = 0; i < 5; i++)
            {
                Assert.AreEqual(full.Reports[4 + i].Loss, resumedLog.Reports[i].Loss, 1e-5, $"loss of step {5 + i}");
                if (renderer)
                    Assert.AreEqual(full.Reports[4 + i].LossTerms["reconstruction"], resumedLog.Reports[i].LossTerms["reconstruction"], 1e-6, $"reconstruction of step {5 + i}");
            }
            Assert.AreEqual(9, model.TrainingSummary.Steps);
            Assert.AreEqual(3, model.TrainingSummary.EpochLosses.Count, "epoch losses carried across the resume");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Resume_WithDifferentOptions_ThrowsNamingTheMismatch()
    {
        var data = KeyedPixels(4, 4, seed: 13);
        var dir = Directory.CreateTempSubdirectory("lh2face-ckpt-").FullName;
        try
        {
            var first = Options(epochs: 1);
            first.CheckpointDirectory = dir;
            using (Ml.Transforms.LH2Face(first).Fit(data)) { }
            var second = Options(epochs: 1);
            second.EmbeddingSize = 16;
            second.ResumeFrom = dir;
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Ml.Transforms.LH2Face(second).Fit(data));
            StringAssert.Contains(e.Message, "embedding=32");
            StringAssert.Contains(e.Message, "embedding=16");
            var missing = Options(epochs: 1);
            missing.ResumeFrom = Path.Combine(dir, "nope");
            Assert.ThrowsExactly<FileNotFoundException>(() => Ml.Transforms.LH2Face(missing).Fit(data));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    [DataRow(LH2FaceLossPreset.LH2Face)]
    [DataRow(LH2FaceLossPreset.ArcFace)]
    [DataRow(LH2FaceLossPreset.CosFace)]
    public void Fit_ManySteps_LiveNativeTensorCountStaysFlat(LH2FaceLossPreset preset)
    {
        // ArcFace and CosFace have one loss term: it used to escape the step's scope and hold each step's graph (12 GB in
        // 6 epochs of an ArcFace run at 64 px) until a finalizer ran.
        var data = KeyedPixels(4, 4, seed: 14);
        var live = new Dictionary<long, long>();
        var options = Options(epochs: 10).ApplyPreset(preset);
        options.Progress = new ProgressRecorder { OnReport = p => live[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount };
        using (Ml.Transforms.LH2Face(options).Fit(data)) { }
        Assert.AreEqual(20, live.Count);
        Assert.IsTrue(live[3] > 0, "the statistics count the network's own tensors");
        Assert.AreEqual(live[3], live[20], $"live tensors after step 3: {live[3]}, after step 20: {live[20]}");
    }

    [TestMethod]
    [DataRow("finished", DisplayName = "finished (the transformer disposed)")]
    [DataRow("diverged", DisplayName = "diverged")]
    [DataRow("cancelled", DisplayName = "cancelled while holding a best-epoch copy")]
    public void Fit_AnyEnding_LiveNativeTensorCountReturnsToItsStart(string ending)
    {
        var data = KeyedPixels(4, 4, seed: 18);
        var held = KeyedPixels(4, 2, seed: 18, firstSample: 10);
        LH2FaceTrainer.Options Configure(CancellationTokenSource cts)
        {
            var options = Options(epochs: 4);
            options.ValidationSet = held; // a best-epoch copy of the weights is held from the first epoch on
            options.CancellationToken = cts.Token;
            if (ending == "diverged")
            {
                options.LearningRate = 1e30f;
                options.GradientClipNorm = 0;
            }
            if (ending == "cancelled")
                options.Progress = new ProgressRecorder { OnReport = p => { if (p.Step == 5) cts.Cancel(); } };
            return options;
        }

        // A first run, so that what TorchSharp creates once per process exists before counting.
        using (var warm = new CancellationTokenSource())
        using (Ml.Transforms.LH2Face(Configure(warm) is var o && ending == "finished" ? o : Options(epochs: 1)).Fit(data)) { }
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using var cts = new CancellationTokenSource();
        var estimator = Ml.Transforms.LH2Face(Configure(cts));
        switch (ending)
        {
            case "finished":
                using (estimator.Fit(data)) { }
                break;
            case "diverged":
                Assert.ThrowsExactly<InvalidOperationException>(() => estimator.Fit(data));
                break;
            default:
                Assert.ThrowsExactly<OperationCanceledException>(() => estimator.Fit(data));
                break;
        }
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, $"live native tensors before and after a {ending} Fit");
    }

    [TestMethod]
    public void Fit_ResumeFromDamagedState_ThrowsNamingTheFile()
    {
        var data = KeyedPixels(4, 4, seed: 17);
        var dir = Directory.CreateTempSubdirectory("lh2face-ckpt-").FullName;
        try
        {
            var options = Options(epochs: 1);
            options.CheckpointDirectory = dir;
            using (Ml.Transforms.LH2Face(options).Fit(data)) { }
            var state = Directory.GetFiles(dir, "state.json", SearchOption.AllDirectories).Single();
            var text = File.ReadAllText(state);
            File.WriteAllText(state, text[..(text.Length / 2)]);

            var resumed = Options(epochs: 2);
            resumed.ResumeFrom = dir;
            var e = Assert.ThrowsExactly<InvalidDataException>(() => Ml.Transforms.LH2Face(resumed).Fit(data));
            StringAssert.StartsWith(e.Message, $"Checkpoint state '{state}' is damaged (");
            StringAssert.EndsWith(e.Message, "resume from an earlier step-* folder of that checkpoint directory, or train from the start.");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    [DataRow(1e6f, DisplayName = "lr 1e6")]
    [DataRow(1e30f, DisplayName = "lr 1e30")]
    public void Fit_LastUpdateOverflows_ThrowsInsteadOfReturningANaNModel(float learningRate)
    {
        // The loss of the only step is finite (it is computed before the update); the update itself wrecks the weights.
        var data = KeyedPixels(4, 4, seed: 16);
        var options = Options(epochs: 1);
        options.MaxSteps = 1;
        options.LearningRate = learningRate;
        options.WarmupEpochs = 0;
        options.GradientClipNorm = 0;
        var recorder = new ProgressRecorder();
        options.Progress = recorder;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Ml.Transforms.LH2Face(options).Fit(data));
        StringAssert.Contains(e.Message, "Training diverged at step 1");
        StringAssert.Contains(e.Message, "Lower Options.LearningRate");
        Assert.IsTrue(recorder.Reports.All(r => float.IsFinite(r.Loss)), "the loss of the step itself was finite");
    }

    [TestMethod]
    public void Fit_LossBecomesNonFinite_ThrowsAndSavesNoCheckpoint()
    {
        var data = KeyedPixels(4, 4, seed: 15);
        var dir = Directory.CreateTempSubdirectory("lh2face-ckpt-").FullName;
        try
        {
            var options = Options(epochs: 5);
            options.LearningRate = 1e30f;
            options.GradientClipNorm = 0;
            options.CheckpointDirectory = dir;
            options.CheckpointEveryNSteps = 1;
            var recorder = new ProgressRecorder();
            options.Progress = recorder;
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => Ml.Transforms.LH2Face(options).Fit(data));
            StringAssert.Contains(e.Message, "Training diverged at epoch");
            StringAssert.Contains(e.Message, "Lower Options.LearningRate");
            long lastGood = recorder.Reports.Count;
            Assert.IsTrue(recorder.Reports.All(r => float.IsFinite(r.Loss)), "only finite steps were reported");
            var checkpoints = Directory.GetDirectories(dir, "step-*").Select(Path.GetFileName).ToArray();
            Assert.IsTrue(checkpoints.All(c => int.Parse(c!.Substring(5)) <= lastGood), "no checkpoint after the failing step");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Fit_CudaAskedButAbsent_ThrowsWithTheFix()
    {
        if (torch.cuda_is_available())
            Assert.Inconclusive("This machine has CUDA.");
        var options = Options(epochs: 1);
        options.Device = LH2FaceDevice.Cuda;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Ml.Transforms.LH2Face(options).Fit(KeyedPixels(2, 2, seed: 1)));
        StringAssert.Contains(e.Message, "-p:TorchBackend=cuda");
    }

    [TestMethod]
    public void Fit_WithValidation_ReportsAccuracyKeepsBestAndStopsEarly()
    {
        var data = KeyedPixels(6, 6, seed: 16);
        var validation = KeyedPixels(6, 3, seed: 16, firstSample: 40);
        var options = Options(epochs: 8);
        options.ValidationSet = validation;
        options.EarlyStoppingPatience = 1;
        var recorder = new ProgressRecorder();
        options.Progress = recorder;
        using var model = Ml.Transforms.LH2Face(options).Fit(data);
        var summary = model.TrainingSummary;
        Assert.IsTrue(summary.ValidationAccuracies.Count >= 2);
        Assert.AreEqual(summary.ValidationAccuracies.Max(), summary.BestValidationAccuracy!.Value, 1e-12);
        Assert.IsTrue(summary.BestValidationAccuracy > 0.75, $"validation accuracy {summary.BestValidationAccuracy:P1} is well above chance (50%)");
        var withAccuracy = recorder.Reports.Where(r => r.ValidationAccuracy.HasValue).ToList();
        Assert.AreEqual(summary.ValidationAccuracies.Count, withAccuracy.Count, "one accuracy per epoch in the progress");
        if (summary.StoppedEarly)
            Assert.IsTrue(summary.ValidationAccuracies.Count < 8);
        else
            Assert.AreEqual(8, summary.ValidationAccuracies.Count);
    }

    [TestMethod]
    public void Fit_ProgressReportsLossTermsAndKappa()
    {
        var options = Options(epochs: 1).ApplyPreset(LH2FaceLossPreset.LH2FaceLiteral);
        var recorder = new ProgressRecorder();
        options.Progress = recorder;
        using (Ml.Transforms.LH2Face(options).Fit(KeyedPixels(4, 4, seed: 17))) { }
        var first = recorder.Reports[0];
        CollectionAssert.AreEquivalent(new[] { "cross_entropy", "norm_regulariser", "proxy_pps", "proxy_pns", "proxy_pp" }, first.LossTerms.Keys.ToArray());
        Assert.AreEqual(first.LossTerms.Values.Sum(), first.Loss, 1e-4);
        Assert.AreEqual(0.35 * (0.99 * 20 + 0.01 * first.MeanKappa), first.MeanMargin!.Value, 1e-3, "Literal margin 0.35 mu_kappa after one EMA step");
        Assert.IsTrue(first.MeanKappa > 0 && first.KappaStd >= 0);
        Assert.AreEqual(2, first.TotalSteps);
        Assert.IsTrue(first.ImagesPerSecond > 0);
    }

    [TestMethod]
    public void Fit_AdamWWithStepScheduleAndArcFace_LossFallsAndLogsToMlContext()
    {
        var ml = new MLContext(seed: 3);
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Source == "LH2Face" && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (messages) messages.Add(e.Message); };
        var raw = TestFaces.PixelData(ml, TestFaces.PixelRows(4, 6, Size, 18), Size);
        var options = Options(epochs: 6);
        options.Optimizer = LH2FaceOptimizer.AdamW;
        options.LearningRate = 2e-3f;
        options.WeightDecay = 0.05f;
        options.Schedule = LH2FaceSchedule.Step;
        options.StepMilestones = new[] { 4 };
        options.WarmupEpochs = 1;
        options.Head = LH2FaceHead.ArcFace;
        var recorder = new ProgressRecorder();
        options.Progress = recorder;
        using var model = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Append(ml.Transforms.LH2Face(options)).Fit(raw);
        var losses = model.LastTransformer.TrainingSummary.EpochLosses;
        Assert.IsTrue(losses[^1] < losses[0], $"loss should fall: {string.Join(", ", losses)}");
        Assert.AreEqual(2e-3 / 3, recorder.Reports[0].LearningRate, 1e-9, "warm-up: 1/3 of the peak on the first of 3 warm-up steps");
        Assert.AreEqual(2e-4, recorder.Reports[^1].LearningRate, 1e-9, "after the milestone epoch: peak x 0.1");
        Assert.IsTrue(messages.Any(m => m.Contains("LH2Face training: 24 images, 4 identities, device CPU", StringComparison.Ordinal)), string.Join("\n", messages));
        Assert.IsTrue(messages.Any(m => m.Contains("Epoch 6: loss", StringComparison.Ordinal)), string.Join("\n", messages));
    }

    private sealed class Scored
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }
}

using System.Diagnostics;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Settings;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>What a finished run hands to the transformer.</summary>
internal sealed record TrainingResult(FaceNetwork Network, LH2FaceTrainingSummary Summary);

/// <summary>What one training step reports: its loss, the value of each weighted term, kappa's batch mean and spread, the mean margin.</summary>
internal sealed record StepResult(float Loss, IReadOnlyDictionary<string, float> Terms, float MeanKappa, float StdKappa, float? MeanMargin);

/// <summary>
/// Holds all mutable state of one training run (network, optimiser, schedule, loader, best epoch) so the
/// estimator stays an immutable description. One dispose scope per step keeps native memory flat.
/// </summary>
internal sealed class TrainingSession
{
    /// <summary>Validation uses at most this many images (all pairs among them: about 2 million).</summary>
    private const int MaxValidationImages = 2000;

    private readonly TrainerSettings settings;
    private readonly ITrainingImages train;
    private readonly FaceImageSet? validation;
    private readonly Action<string> log;

    /// <summary>A few images of the first training batch, kept to check the finished model's outputs are finite.</summary>
    private Tensor? probe;

    public TrainingSession(TrainerSettings settings, ITrainingImages train, FaceImageSet? validation, Action<string> log)
    {
        this.settings = settings;
        this.train = train;
        this.validation = validation;
        this.log = log;
    }

    /// <summary>
    /// When set, receives where each step's time went (<see cref="StepTiming"/>), on the training thread after the step's
    /// progress report; null (the default) times nothing. For the overhead benchmark and its test: it changes no result.
    /// </summary>
    public Action<StepTiming>? StepTimings { get; init; }

    public static Device ResolveDevice(LH2FaceDevice device)
    {
        return device switch
        {
            LH2FaceDevice.Cpu => CPU,
            LH2FaceDevice.Auto => cuda_is_available() ? CUDA : CPU,
            LH2FaceDevice.Cuda => cuda_is_available() ? CUDA : throw new InvalidOperationException(
                "Options.Device = Cuda, but TorchSharp sees no CUDA device. Build with -p:TorchBackend=cuda (TorchSharp-cuda-linux) on a machine with an NVIDIA driver, or use Device = Auto or Cpu."),
            _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown device."),
        };
    }

    /// <summary>
    /// Trains: load TorchSharp, build the network, optimisers, loss and schedule, resume if asked, then for each step
    /// take a batch, set the rate, step, record, and at an epoch's end validate and maybe stop; checkpoint when due.
    /// Every native resource is released whatever happens; on success the network goes to the caller.
    /// </summary>
    public TrainingResult Run()
    {
        log(GlibcHeap.Apply(settings.Run.NativeHeap)); // before libtorch allocates anything
        var device = LoadTorch();
        int batchSize = Math.Min(settings.Schedule.BatchSize, train.Count);
        if (batchSize < 2)
            throw new InvalidOperationException($"The training data has {train.Count} image(s): batch norm needs at least 2 per batch.");
        long stepsPerEpoch = BatchLoader.StepsPerEpochFor(train.Count, batchSize);
        long totalSteps = stepsPerEpoch * settings.Schedule.Epochs;
        long lastStep = settings.Schedule.MaxSteps > 0 ? Math.Min(totalSteps, settings.Schedule.MaxSteps) : totalSteps;
        var checkpoints = new CheckpointWriter(settings.Run, settings.Network, train.ClassCount, Fingerprint(batchSize));

        random.manual_seed(settings.Run.Seed);
        var network = new FaceNetwork(settings.Network, train.ClassCount);
        bool succeeded = false;
        try
        {
            network.to(device);
            network.TrainingPrecision = settings.Run.Precision;
            network.RecomputeActivations = settings.Run.RecomputeActivations;
            network.RecomputeStem = true; // the same gradients, three full-resolution maps less at the step's peak
            CheckConvolutions(network, device);
            using var optimizers = new OptimizerSet(settings.Schedule, settings.Loss.Proxies, settings.Renderer, network);
            var faceLoss = new FaceLoss(settings.Loss);
            var schedule = new LearningRateSchedule(settings.Schedule, stepsPerEpoch);
            using var tracker = StartOrResume(checkpoints, network, optimizers, totalSteps, out long step);
            LogSettings(device, batchSize, stepsPerEpoch);

            bool stoppedEarly = false;
            var clock = Stopwatch.StartNew();
            int brokenPausesBefore = CollectorPause.BrokenRegions;
            network.train();
            var timer = StepTimings is null ? null : new StepClock();
            // How long the steps waited for the loader: whether streamed decoding keeps up (the first batch always waits).
            var dataWait = TimeSpan.Zero;
            int waitingSteps = 0;
            long firstStep = step;
            using (var loader = new BatchLoader(train, batchSize, settings.Run.Seed, settings.Run.RandomHorizontalFlip, step, lastStep, settings.Run.CancellationToken))
            {
                while (step < lastStep && !stoppedEarly)
                {
                    settings.Run.CancellationToken.ThrowIfCancellationRequested();
                    timer?.Start();
                    long waitStart = Stopwatch.GetTimestamp();
                    var batch = loader.Next();
                    var waited = Stopwatch.GetElapsedTime(waitStart);
                    dataWait += waited;
                    if (waited > TimeSpan.FromMilliseconds(10) && step > firstStep)
                        waitingSteps++;
                    timer?.Lap(StepPhase.LoaderWait);
                    double lr = schedule.At(step);
                    optimizers.SetLearningRate(lr);
                    var stepClock = Stopwatch.StartNew();
                    StepResult result;
                    using (CollectorPause.Start())
                        result = TrainStep(network, faceLoss, optimizers, batch, device, batchSize, loader, timer);
                    timer?.Lap(StepPhase.Other); // the step's dispose scope and no-GC region closing
                    if (!float.IsFinite(result.Loss))
                        throw new InvalidOperationException($"Training diverged at epoch {batch.Epoch}, step {step + 1}: the loss is {result.Loss}. {DivergenceAdvice(lr)}");
                    step++;
                    tracker.AddStep(result);

                    double? accuracy = null;
                    bool epochEnd = step % stepsPerEpoch == 0;
                    if (epochEnd)
                    {
                        accuracy = validation is null ? null : Validate(network, validation, device);
                        log(tracker.EndEpoch((int)(step / stepsPerEpoch) - 1, accuracy, network));
                        stoppedEarly = tracker.EarlyStopDue(settings.Run.EarlyStoppingPatience);
                    }
                    if (checkpoints.IsDue(step, lastStep, stoppedEarly))
                    {
                        RequireFiniteWeights(network, step, schedule.At(step - 1));
                        checkpoints.Write(step, tracker, network, optimizers);
                    }
                    settings.Run.Progress?.Report(new LH2FaceProgress(
                        batch.Epoch, step, totalSteps, result.Loss, result.Terms, lr, batchSize / stepClock.Elapsed.TotalSeconds, result.MeanKappa, result.StdKappa, accuracy, result.MeanMargin));
                    if (timer is not null)
                    {
                        timer.Lap(StepPhase.Bookkeeping);
                        StepTimings!(timer.Finish(step, result.Loss));
                    }
                    if (stoppedEarly)
                        log($"Early stopping after epoch {batch.Epoch + 1}: no improvement for {tracker.EpochsWithoutImprovement} epochs.");
                }
            }

            log($"Data loading: the steps waited {dataWait.TotalSeconds:F1} s in all for their batches; {waitingSteps} of the {Math.Max(0, step - firstStep - 1)} steps after the first waited more than 10 ms.");

            // Keep the best validation epoch, not the last.
            tracker.RestoreBest(network);
            // The loss is checked before each update; the weights after the last one are checked here, so a final
            // update that overflowed never becomes a model whose every embedding is NaN.
            double lastRate = schedule.At(Math.Max(0, step - 1));
            RequireFiniteWeights(network, step, lastRate);
            network.eval();
            RequireFiniteOutputs(network, step, lastRate);
            int brokenPauses = CollectorPause.BrokenRegions - brokenPausesBefore;
            if (brokenPauses > 0)
                log($"{brokenPauses} training step(s) allocated more than {CollectorPause.Budget >> 20} MB of managed memory, so a garbage collection ran while TorchSharp native code could be in flight (see CollectorPause).");
            var summary = tracker.Summary(step, totalSteps, stoppedEarly, clock.Elapsed);
            network.TrainingPrecision = LH2FacePrecision.Float32; // the trained model computes in float32 (it does in eval mode anyway)
            succeeded = true;
            return new TrainingResult(network, summary);
        }
        finally
        {
            probe?.Dispose();
            probe = null;
            if (!succeeded)
                network.Dispose();
        }
    }

    /// <summary>Before the first torch call: where no build step weakened libLibTorchSharp.so (notebooks, scripts), load a weakened copy.</summary>
    private Device LoadTorch()
    {
        var native = TorchSharpNative.EnsureLoadable(log);
        try
        {
            return ResolveDevice(settings.Run.Device); // the first torch call: TorchSharp loads its native library here
        }
        catch (Exception e) when (native.Action == TorchSharpNativeAction.Failed && e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            // TorchSharp's own message blames a missing libtorch package; the reason is the one the preparation found.
            throw new InvalidOperationException($"{native.Message} TorchSharp then failed to load: {e.Message}", e);
        }
    }

    private void CheckConvolutions(FaceNetwork network, Device device)
    {
        var checkClock = Stopwatch.StartNew();
        network.RecordConvolutionSizes(settings.Backbone.InputSize, device);
        var convolutionChecks = network.CheckConvolutions(device);
        log(ConvolutionSelfCheck.Describe(convolutionChecks, checkClock.Elapsed));
    }

    /// <summary>A tracker for a new run, or one continuing Options.ResumeFrom (weights and optimisers loaded); <paramref name="step"/> is where training goes on.</summary>
    private EpochTracker StartOrResume(CheckpointWriter checkpoints, FaceNetwork network, OptimizerSet optimizers, long totalSteps, out long step)
    {
        if (settings.Run.ResumeFrom is null)
        {
            step = 0;
            return new EpochTracker(checkpoints.Start, best: null);
        }
        var (state, best, dir) = checkpoints.Resume(network, optimizers);
        step = state.Step;
        log($"Resumed from '{dir}' at step {state.Step} of {totalSteps}.");
        return new EpochTracker(state, best);
    }

    private void LogSettings(Device device, int batchSize, long stepsPerEpoch)
    {
        log($"LH2Face training: {train.Count} images, {train.ClassCount} identities, device {device.type}, backbone {settings.Backbone.Kind} at {settings.Backbone.InputSize}px, " +
            $"embedding {settings.Backbone.EmbeddingSize}, head {settings.Loss.Head.Kind}, optimiser {settings.Schedule.Optimizer} lr {settings.Schedule.LearningRate}, batch {batchSize}, " +
            $"{settings.Schedule.Epochs} epochs x {stepsPerEpoch} steps, seed {settings.Run.Seed}.");
        log($"Training images: {train.Describe()}.");
        if (settings.Run.Precision == LH2FacePrecision.BFloat16)
            log(DescribeBFloat16(device));
        if (settings.Run.RecomputeActivations)
            log("Activation recomputation: the backbone's trunk keeps only the input of each residual block (and of the stem and the last batch norm) in training passes " +
                "and runs each block again in the backward pass: the same gradients, less memory, one more forward pass of the trunk per step.");
        else
            log("Activation recomputation: the stem and the first block's entry (their outputs are recomputed in the backward pass rather than kept: the same gradients, " +
                "three full-resolution maps less memory); Options.RecomputeActivations extends it to every residual block.");
        log($"Loss: {LossConfiguration.ToJson(settings.Loss, train.ClassCount)}");
        if (settings.Renderer is { } renderer)
            log(RendererTraining.Describe(renderer));
    }

    /// <summary>The log line of a bfloat16 run: what computes in bfloat16, and whether this CPU has the instructions that make it fast.</summary>
    internal static string DescribeBFloat16(Device device)
    {
        string hardware = device.type != DeviceType.CPU ? ""
            : CpuDescription.HasBFloat16Instructions() ? " This CPU has bfloat16 instructions (avx512_bf16 or amx_bf16)."
            : " This CPU lists no bfloat16 instructions (avx512_bf16, amx_bf16): oneDNN emulates them, and bfloat16 is likely slower than float32 here (Options.Precision = Float32).";
        return "Precision: the backbone's convolutional trunk computes in bfloat16 in training passes; master weights, optimiser state, batch-norm statistics, " +
            "the embedding layer, the loss and validation stay float32, and the saved model is float32." + hardware;
    }

    /// <summary>What to do about a diverged run, the same for every way divergence shows.</summary>
    private static string DivergenceAdvice(double lr)
        => $"Lower Options.LearningRate (now {lr:G3}), add warm-up (WarmupEpochs) or keep GradientClipNorm on. No model was produced from this run; earlier checkpoints are intact.";

    /// <summary>Throws when a parameter or buffer of the network holds NaN or infinity, naming the first one.</summary>
    private static void RequireFiniteWeights(FaceNetwork network, long step, double lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(network.named_buffers()))
        {
            if (tensor.is_floating_point() && !tensor.isfinite().all().item<bool>())
            {
                throw new InvalidOperationException(
                    $"Training diverged at step {step}: the weights '{name}' hold NaN or infinity after the update although the loss before it was finite. {DivergenceAdvice(lr)}");
            }
        }
    }

    /// <summary>
    /// Throws when the finished network (eval mode) maps the probe images to a non-finite embedding: finite but huge
    /// weights can still overflow in the forward pass, and such a model must not be returned.
    /// </summary>
    private void RequireFiniteOutputs(FaceNetwork network, long step, double lr)
    {
        if (probe is null)
            return;
        bool finite;
        using (no_grad())
        using (NewDisposeScope())
            finite = network.Features(probe).isfinite().all().item<bool>();
        probe.Dispose();
        probe = null;
        if (!finite)
        {
            throw new InvalidOperationException(
                $"Training diverged at step {step}: the trained network gives NaN or infinite embeddings for training images although every loss was finite. {DivergenceAdvice(lr)}");
        }
    }

    /// <summary>
    /// One optimiser step on <paramref name="batch"/>: the forward pass builds the total loss and its weighted terms as
    /// tensors; then their values are read back (the only .item() reads, so the forward pass and the bookkeeping are timed
    /// apart); a non-finite loss returns before backward, so no update is applied. <paramref name="timer"/>, when not
    /// null, charges each phase to its bucket.
    /// </summary>
    private StepResult TrainStep(FaceNetwork network, FaceLoss faceLoss, OptimizerSet optimizers, FaceBatch batch, Device device, int batchSize, BatchLoader loader, StepClock? timer)
    {
        using var scope = NewDisposeScope();
        // Reseeding per step makes dropout and class sampling depend on the step alone, so a resumed run matches.
        random.manual_seed(unchecked(settings.Run.Seed * 1_000_003L + batch.Step));
        timer?.Lap(StepPhase.Other);
        int side = settings.Backbone.InputSize;
        var pixels = batch.PixelTensor(batchSize, side).to(device);
        loader.Release(batch); // the pixels were copied
        probe ??= pixels.narrow(0, 0, Math.Min(8, batchSize)).clone().DetachFromDisposeScope();
        var labels = tensor(batch.Labels).to(device);
        timer?.Lap(StepPhase.PixelCopy);
        // With the kappa-ranking term, degraded copies of the first images ride in the same forward pass (one set of
        // batch-norm statistics for both, so their norms compare); the recognition losses see the clean batch only.
        var ranking = settings.Loss.KappaRanking;
        int copies = ranking.Copies(batchSize);
        var batchAndCopies = copies == 0 ? pixels : cat(new[] { pixels, KappaRanking.Degrade(pixels.narrow(0, 0, copies)) }, 0);
        timer?.Lap(StepPhase.Copies);
        var features = copies > 0 && !ranking.TrainsBackbone ? network.FeaturesDetachingCopies(batchAndCopies, copies) : network.Features(batchAndCopies);
        var z = copies == 0 ? features : features.narrow(0, 0, batchSize);
        var (embedding, norm) = FaceNetwork.Split(z);
        var output = faceLoss.Compute(network.Head, embedding, norm, labels);
        // Each weighted term as it enters the loss, in the order the reports list them.
        var termTensors = new List<(string Name, Tensor Value)>(output.Terms);
        var loss = output.Total;
        if (copies > 0 && ranking.Weight > 0)
        {
            var copyNorms = features.narrow(0, batchSize, copies).norm(1, keepdim: true);
            var sourceNorms = norm.narrow(0, 0, copies);
            var rankingLoss = ranking.Weight * KappaRanking.Loss(ranking.TrainsBackbone ? sourceNorms : sourceNorms.detach(), copyNorms, ranking.Margin);
            termTensors.Add((KappaRanking.Term, rankingLoss));
            loss = loss + rankingLoss;
        }
        if (copies > 0 && ranking.ConsistencyWeight > 0)
        {
            var consistency = ranking.ConsistencyWeight * KappaRanking.Consistency(z.narrow(0, 0, copies), features.narrow(0, batchSize, copies));
            termTensors.Add((KappaRanking.ConsistencyTerm, consistency));
            loss = loss + consistency;
        }
        if (network.Renderer is not null)
        {
            foreach (var (name, value, weight) in RendererTraining.Losses(network, pixels, z, labels, settings.Renderer!, side))
            {
                // Weighted, as the loss terms above: the reported terms sum to the loss.
                var weighted = weight * value;
                termTensors.Add((name, weighted));
                loss = loss + weighted;
            }
        }
        timer?.Lap(StepPhase.Forward);
        var terms = new Dictionary<string, float>();
        foreach (var (name, value) in termTensors)
            terms[name] = value.item<float>();
        float? meanMargin = output.MeanMargin?.item<float>();
        float lossValue = loss.item<float>();
        float meanKappa = norm.mean().item<float>();
        float stdKappa = batchSize > 1 ? norm.std().item<float>() : 0f;
        timer?.Lap(StepPhase.Bookkeeping);
        if (!float.IsFinite(lossValue))
        {
            network.DiscardRecomputation();
            return new StepResult(lossValue, terms, meanKappa, stdKappa, meanMargin);
        }
        optimizers.ZeroGrad();
        timer?.Lap(StepPhase.Optimizer);
        loss.backward();
        network.BackwardRecomputed(); // the recomputed part's backward: the stem and the first block's entry, or the whole trunk under Options.RecomputeActivations
        timer?.Lap(StepPhase.Backward);
        optimizers.ClipAndStep();
        timer?.Lap(StepPhase.Optimizer);
        return new StepResult(lossValue, terms, meanKappa, stdKappa, meanMargin);
    }

    /// <summary>Verification accuracy on every pair of validation images (balanced: mean of TPR and TNR at the best threshold).</summary>
    private static double Validate(FaceNetwork network, FaceImageSet data, Device device)
    {
        using var pause = CollectorPause.Start();
        var embeddings = Embedder.Embed(network, data, device, MaxValidationImages);
        network.train();
        return PairAccuracy.BestBalancedAccuracy(embeddings, data.Labels.AsSpan(0, embeddings.Length));
    }

    private string Fingerprint(int batchSize)
    {
        var b = settings.Backbone;
        return $"images={train.Count};classes={train.ClassCount};backbone={b.Kind}{(b.EmbeddingNorm == LH2FaceEmbeddingNorm.FrozenScale ? "" : $"({b.EmbeddingNorm})")};input={b.InputSize};embedding={b.EmbeddingSize};" +
           $"head={settings.Loss.Head.Kind};loss={LossConfiguration.ToJson(settings.Loss)};optimizer={settings.Schedule.Optimizer};batch={batchSize};epochs={settings.Schedule.Epochs};seed={settings.Run.Seed}" + RendererTraining.Fingerprint(settings.Renderer) +
           (settings.Run.Precision == LH2FacePrecision.Float32 ? "" : $";precision={settings.Run.Precision}");
    }
}

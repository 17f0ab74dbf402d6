using System.Diagnostics;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Rendering;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>What a finished run hands to the transformer.</summary>
internal sealed record TrainingResult(FaceNetwork Network, LH2FaceTrainingSummary Summary);

/// <summary>
/// Holds all mutable state of one training run (network, optimiser, schedule, loader, best epoch) so the
/// estimator stays an immutable description. One dispose scope per step keeps native memory flat.
/// </summary>
internal sealed class TrainingSession
{
    /// <summary>Validation uses at most this many images (all pairs among them: about 2 million).</summary>
    private const int MaxValidationImages = 2000;

    private readonly LH2FaceTrainer.Options options;
    private readonly FaceImageSet train;
    private readonly FaceImageSet? validation;
    private readonly Action<string> log;

    /// <summary>A few images of the first training batch, kept to check the finished model's outputs are finite.</summary>
    private Tensor? probe;

    public TrainingSession(LH2FaceTrainer.Options options, FaceImageSet train, FaceImageSet? validation, Action<string> log)
    {
        this.options = options;
        this.train = train;
        this.validation = validation;
        this.log = log;
    }

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

    public TrainingResult Run()
    {
        // Where no build step weakened libLibTorchSharp.so (notebooks, scripts), load a weakened copy first.
        var native = TorchSharpNative.EnsureLoadable(log);
        Device device;
        try
        {
            device = ResolveDevice(options.Device); // the first torch call: TorchSharp loads its native library here
        }
        catch (Exception e) when (native.Action == TorchSharpNativeAction.Failed && e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            // TorchSharp's own message blames a missing libtorch package; the reason is the one the preparation found.
            throw new InvalidOperationException($"{native.Message} TorchSharp then failed to load: {e.Message}", e);
        }
        int batchSize = Math.Min(options.BatchSize, train.Count);
        if (batchSize < 2)
            throw new InvalidOperationException($"The training data has {train.Count} image(s): batch norm needs at least 2 per batch.");
        long stepsPerEpoch = BatchLoader.StepsPerEpochFor(train.Count, batchSize);
        long totalSteps = stepsPerEpoch * options.Epochs;
        long lastStep = options.MaxSteps > 0 ? Math.Min(totalSteps, options.MaxSteps) : totalSteps;
        string fingerprint = Fingerprint(batchSize);

        random.manual_seed(options.Seed);
        var network = new FaceNetwork(options, train.ClassCount);
        network.to(device);
        var checkClock = Stopwatch.StartNew();
        network.RecordConvolutionSizes(options.InputSize, device);
        var convolutionChecks = network.CheckConvolutions(device);
        log(ConvolutionSelfCheck.Describe(convolutionChecks, checkClock.Elapsed));
        var optimizer = CreateOptimizer(network);
        var rendererOptimizer = CreateRendererOptimizer(network);
        var faceLoss = new FaceLoss(options);
        var schedule = new LearningRateSchedule(options, stepsPerEpoch);

        var state = new CheckpointState { Fingerprint = fingerprint, Seed = options.Seed };
        Dictionary<string, Tensor>? best = null;
        if (options.ResumeFrom is not null)
        {
            var dir = CheckpointStore.Resolve(options.ResumeFrom);
            state = CheckpointStore.ReadState(dir);
            if (state.Fingerprint != fingerprint)
                throw new InvalidOperationException(
                    $"Options.ResumeFrom = '{options.ResumeFrom}' was written by a different run ({state.Fingerprint}); this run is {fingerprint}. Resume with the same data, backbone, sizes, head, batch size, epochs and seed.");
            CheckpointStore.ReadFile(Path.Combine(dir, CheckpointStore.WeightsFile), file => network.load(file));
            CheckpointStore.ReadFile(Path.Combine(dir, CheckpointStore.OptimizerFile), file => optimizer.load_state_dict(file));
            if (rendererOptimizer is not null)
                CheckpointStore.ReadFile(Path.Combine(dir, CheckpointStore.RendererOptimizerFile), file => rendererOptimizer.load_state_dict(file));
            var bestFile = Path.Combine(dir, CheckpointStore.BestWeightsFile);
            if (File.Exists(bestFile))
            {
                using var bestNet = new FaceNetwork(options, train.ClassCount);
                CheckpointStore.ReadFile(bestFile, file => bestNet.load(file));
                best = Snapshot(bestNet);
            }
            log($"Resumed from '{dir}' at step {state.Step} of {totalSteps}.");
        }

        log($"LH2Face training: {train.Count} images, {train.ClassCount} identities, device {device.type}, backbone {options.Backbone} at {options.InputSize}px, " +
            $"embedding {options.EmbeddingSize}, head {options.Head}, optimiser {options.Optimizer} lr {options.LearningRate}, batch {batchSize}, " +
            $"{options.Epochs} epochs x {stepsPerEpoch} steps, seed {options.Seed}.");
        log($"Loss: {LossConfiguration.ToJson(options, train.ClassCount)}");
        if (options.UseRenderer)
            log(RendererTraining.Describe(options));

        var epochLosses = new List<float>(state.EpochLosses);
        var accuracies = new List<double>(state.ValidationAccuracies);
        double bestAccuracy = state.BestValidationAccuracy;
        int bestEpoch = state.BestEpoch;
        int sinceImprovement = state.EpochsWithoutImprovement;
        // A resumed run continues the running sums of the epoch it stopped in, so its log equals the uninterrupted run's.
        double epochLossSum = state.EpochLossSum;
        int epochLossCount = state.EpochLossCount;
        var epochTerms = new EpochTermMeans(state.EpochTerms);
        bool stoppedEarly = false;
        long step = state.Step;
        var clock = Stopwatch.StartNew();
        int brokenPausesBefore = CollectorPause.BrokenRegions;

        network.train();
        using (var loader = new BatchLoader(train, batchSize, options.Seed, options.RandomHorizontalFlip, step, lastStep, options.CancellationToken))
        {
            while (step < lastStep)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                var batch = loader.Next();
                double lr = schedule.At(step);
                SetLearningRate(optimizer, rendererOptimizer, lr);
                var stepClock = Stopwatch.StartNew();
                (float Loss, IReadOnlyDictionary<string, float> Terms, float MeanKappa, float StdKappa, float? MeanMargin) result;
                using (CollectorPause.Start())
                    result = TrainStep(network, faceLoss, optimizer, rendererOptimizer, batch, device, batchSize, loader);
                var (loss, terms, meanKappa, stdKappa, meanMargin) = result;
                if (!float.IsFinite(loss))
                {
                    throw new InvalidOperationException(
                        $"Training diverged at epoch {batch.Epoch}, step {step + 1}: the loss is {loss}. {DivergenceAdvice(lr)}");
                }
                step++;
                epochLossSum += loss;
                epochLossCount++;
                epochTerms.Add(terms, meanKappa, stdKappa, meanMargin);
                double? accuracy = null;
                bool epochEnd = step % stepsPerEpoch == 0;
                if (epochEnd)
                {
                    int epoch = (int)(step / stepsPerEpoch) - 1;
                    epochLosses.Add((float)(epochLossSum / epochLossCount));
                    epochLossSum = 0;
                    epochLossCount = 0;
                    string termLine = epochTerms.Describe();
                    epochTerms = new EpochTermMeans();
                    if (validation is not null)
                    {
                        using (CollectorPause.Start())
                            accuracy = Validate(network, validation, device);
                        accuracies.Add(accuracy.Value);
                        if (double.IsNaN(bestAccuracy) || accuracy.Value > bestAccuracy)
                        {
                            bestAccuracy = accuracy.Value;
                            bestEpoch = epoch;
                            sinceImprovement = 0;
                            DisposeAll(best);
                            best = Snapshot(network);
                        }
                        else
                        {
                            sinceImprovement++;
                        }
                        log($"Epoch {epoch + 1}: loss {epochLosses[^1]:F4}, validation accuracy {accuracy.Value:P2} (best {bestAccuracy:P2} at epoch {bestEpoch + 1}); {termLine}.");
                    }
                    else
                    {
                        log($"Epoch {epoch + 1}: loss {epochLosses[^1]:F4}; {termLine}.");
                    }
                }
                bool stopNow = epochEnd && options.EarlyStoppingPatience > 0 && sinceImprovement >= options.EarlyStoppingPatience;
                if (options.CheckpointDirectory is not null &&
                    ((options.CheckpointEveryNSteps > 0 && step % options.CheckpointEveryNSteps == 0) || step == lastStep || stopNow))
                {
                    var current = new CheckpointState
                    {
                        Step = step, Fingerprint = fingerprint, Seed = options.Seed,
                        BestValidationAccuracy = bestAccuracy, BestEpoch = bestEpoch, EpochsWithoutImprovement = sinceImprovement,
                        EpochLosses = new List<float>(epochLosses), ValidationAccuracies = new List<double>(accuracies),
                        EpochLossSum = epochLossSum, EpochLossCount = epochLossCount, EpochTerms = epochTerms.Sums,
                    };
                    RequireFiniteWeights(network, step, schedule.At(step - 1));
                    SaveCheckpoint(current, network, optimizer, rendererOptimizer, best);
                }
                options.Progress?.Report(new LH2FaceProgress(
                    batch.Epoch, step, totalSteps, loss, terms, lr, batchSize / stepClock.Elapsed.TotalSeconds, meanKappa, stdKappa, accuracy, meanMargin));
                if (stopNow)
                {
                    log($"Early stopping after epoch {batch.Epoch + 1}: no improvement for {sinceImprovement} epochs.");
                    stoppedEarly = true;
                    break;
                }
            }
        }

        if (best is not null)
        {
            // Keep the best validation epoch, not the last.
            using var noGrad = no_grad();
            network.load_state_dict(best);
            DisposeAll(best);
        }
        // The loss is checked before each update; the weights after the last one are checked here, so a final
        // update that overflowed never becomes a model whose every embedding is NaN.
        double lastRate = schedule.At(Math.Max(0, step - 1));
        RequireFiniteWeights(network, step, lastRate);
        network.eval();
        RequireFiniteOutputs(network, step, lastRate);
        int brokenPauses = CollectorPause.BrokenRegions - brokenPausesBefore;
        if (brokenPauses > 0)
            log($"{brokenPauses} training step(s) allocated more than {CollectorPause.Budget >> 20} MB of managed memory, so a garbage collection ran while TorchSharp native code could be in flight (see CollectorPause).");
        optimizer.Dispose();
        rendererOptimizer?.Dispose();
        var summary = new LH2FaceTrainingSummary(
            step, totalSteps, epochLosses.ToArray(), accuracies.ToArray(),
            double.IsNaN(bestAccuracy) ? null : bestAccuracy, bestEpoch >= 0 ? bestEpoch : null, stoppedEarly, clock.Elapsed);
        return new TrainingResult(network, summary);
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

    private (float Loss, IReadOnlyDictionary<string, float> Terms, float MeanKappa, float StdKappa, float? MeanMargin) TrainStep(
        FaceNetwork network, FaceLoss faceLoss, OptimizerHelper optimizer, OptimizerHelper? rendererOptimizer, FaceBatch batch, Device device, int batchSize, BatchLoader loader)
    {
        using var scope = NewDisposeScope();
        // Reseeding per step makes dropout and class sampling depend on the step alone, so a resumed run matches.
        random.manual_seed(unchecked(options.Seed * 1_000_003L + batch.Step));
        int side = options.InputSize;
        var pixels = tensor(batch.Pixels, new long[] { batchSize, 3, side, side }).to(device);
        loader.Release(batch); // tensor() copied the pixels
        probe ??= pixels.narrow(0, 0, Math.Min(8, batchSize)).clone().DetachFromDisposeScope();
        var labels = tensor(batch.Labels).to(device);
        // With the kappa-ranking term, degraded copies of the first images ride in the same forward pass (one set of
        // batch-norm statistics for both, so their norms compare); the recognition losses see the clean batch only.
        int copies = KappaRanking.Copies(options, batchSize);
        var batchAndCopies = copies == 0 ? pixels : cat(new[] { pixels, KappaRanking.Degrade(pixels.narrow(0, 0, copies)) }, 0);
        var features = copies > 0 && !options.KappaRankingTrainsBackbone ? network.FeaturesDetachingCopies(batchAndCopies, copies) : network.Features(batchAndCopies);
        var z = copies == 0 ? features : features.narrow(0, 0, batchSize);
        var (embedding, norm) = FaceNetwork.Split(z);
        var output = faceLoss.Compute(network.Head, embedding, norm, labels);
        var terms = new Dictionary<string, float>();
        foreach (var (name, value) in output.Terms)
            terms[name] = value.item<float>();
        var loss = output.Total;
        if (copies > 0 && options.KappaRankingWeight > 0)
        {
            var copyNorms = features.narrow(0, batchSize, copies).norm(1, keepdim: true);
            var sourceNorms = norm.narrow(0, 0, copies);
            var ranking = options.KappaRankingWeight * KappaRanking.Loss(options.KappaRankingTrainsBackbone ? sourceNorms : sourceNorms.detach(), copyNorms, options.KappaRankingMargin);
            terms[KappaRanking.Term] = ranking.item<float>();
            loss = loss + ranking;
        }
        if (copies > 0 && options.DegradedConsistencyWeight > 0)
        {
            var consistency = options.DegradedConsistencyWeight * KappaRanking.Consistency(z.narrow(0, 0, copies), features.narrow(0, batchSize, copies));
            terms[KappaRanking.ConsistencyTerm] = consistency.item<float>();
            loss = loss + consistency;
        }
        float? meanMargin = output.MeanMargin?.item<float>();
        if (network.Renderer is not null)
        {
            foreach (var (name, value, weight) in RendererTraining.Losses(network, pixels, z, labels, options))
            {
                // Weighted, as the loss terms above: the reported terms sum to the loss.
                var weighted = weight * value;
                terms[name] = weighted.item<float>();
                loss = loss + weighted;
            }
        }
        float lossValue = loss.item<float>();
        float meanKappa = norm.mean().item<float>();
        float stdKappa = batchSize > 1 ? norm.std().item<float>() : 0f;
        if (!float.IsFinite(lossValue))
            return (lossValue, terms, meanKappa, stdKappa, meanMargin);
        optimizer.zero_grad();
        rendererOptimizer?.zero_grad();
        loss.backward();
        if (options.GradientClipNorm > 0)
        {
            // Clipped per optimiser: the renderer's gradients must not shrink the recognition step, nor the reverse.
            nn.utils.clip_grad_norm_(optimizer.parameters(), options.GradientClipNorm);
            if (rendererOptimizer is not null)
                nn.utils.clip_grad_norm_(rendererOptimizer.parameters(), options.GradientClipNorm);
        }
        optimizer.step();
        rendererOptimizer?.step();
        return (lossValue, terms, meanKappa, stdKappa, meanMargin);
    }

    /// <summary>Verification accuracy on every pair of validation images (balanced: mean of TPR and TNR at the best threshold).</summary>
    private static double Validate(FaceNetwork network, FaceImageSet data, Device device)
    {
        var embeddings = Embedder.Embed(network, data, device, MaxValidationImages);
        network.train();
        return PairAccuracy.BestBalancedAccuracy(embeddings, data.Labels.AsSpan(0, embeddings.Length));
    }

    /// <summary>
    /// One parameter group, or two when the proxies W get their own learning rate (ProxyLearningRateMultiplier): the network
    /// first, the proxies second. <see cref="SetLearningRate"/> keeps the factor of each group. The renderer's own
    /// parameters are not here: they have <see cref="CreateRendererOptimizer"/>.
    /// </summary>
    private OptimizerHelper CreateOptimizer(FaceNetwork network)
    {
        var proxies = network.Head.Proxies;
        var trainable = MainParameters(network);
        bool separate = options.ProxyLearningRateMultiplier != 1f;
        var rest = separate ? trainable.Where(p => !ReferenceEquals(p, proxies) && p.Handle != proxies.Handle).ToList() : trainable;
        double lr = options.LearningRate, proxyLr = options.LearningRate * (double)options.ProxyLearningRateMultiplier;
        groupFactors = separate ? new[] { 1.0, (double)options.ProxyLearningRateMultiplier } : new[] { 1.0 };
        return options.Optimizer switch
        {
            LH2FaceOptimizer.Sgd when separate => optim.SGD(new[]
            {
                new SGD.ParamGroup(rest, lr: lr, momentum: options.Momentum, weight_decay: options.WeightDecay),
                new SGD.ParamGroup(new[] { proxies }, lr: proxyLr, momentum: options.Momentum, weight_decay: options.WeightDecay),
            }, lr, momentum: options.Momentum, weight_decay: options.WeightDecay),
            LH2FaceOptimizer.AdamW when separate => optim.AdamW(new[]
            {
                new AdamW.ParamGroup(rest, lr: lr, weight_decay: options.WeightDecay),
                new AdamW.ParamGroup(new[] { proxies }, lr: proxyLr, weight_decay: options.WeightDecay),
            }, lr, weight_decay: options.WeightDecay),
            LH2FaceOptimizer.Sgd => optim.SGD(trainable, options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
            LH2FaceOptimizer.AdamW => optim.AdamW(trainable, options.LearningRate, weight_decay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer,
                $"Unknown optimiser '{options.Optimizer}': use one of {string.Join(", ", Enum.GetNames<LH2FaceOptimizer>())}."),
        };
    }

    /// <summary>The trainable parameters of backbone and head: everything but the renderer's own.</summary>
    internal static List<Parameter> MainParameters(FaceNetwork network)
    {
        var renderer = RendererParameters(network).Select(p => p.Handle).ToHashSet();
        return network.parameters().Where(p => p.requires_grad && !renderer.Contains(p.Handle)).ToList();
    }

    /// <summary>The renderer's parameters (decoders, light and view heads); empty without the renderer.</summary>
    internal static List<Parameter> RendererParameters(FaceNetwork network)
        => network.Renderer?.parameters().Where(p => p.requires_grad).ToList() ?? new List<Parameter>();

    /// <summary>
    /// Adam for the renderer's own parameters (Unsup3d trains its renderer with Adam): its L1 and image
    /// terms give gradients of a very different scale from the recognition loss, which SGD at the
    /// recognition rate does not move. No weight decay, as in Unsup3d. Null without the renderer.
    /// </summary>
    private OptimizerHelper? CreateRendererOptimizer(FaceNetwork network)
    {
        var parameters = RendererParameters(network);
        return parameters.Count == 0 ? null : optim.Adam(parameters, options.RendererLearningRate);
    }

    /// <summary>Learning-rate factor of each optimiser parameter group (see <see cref="CreateOptimizer"/>).</summary>
    private double[] groupFactors = { 1.0 };

    private void SetLearningRate(OptimizerHelper optimizer, OptimizerHelper? rendererOptimizer, double lr)
    {
        int i = 0;
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = lr * groupFactors[Math.Min(i++, groupFactors.Length - 1)];
        if (rendererOptimizer is not null)
        {
            // The same schedule, scaled to the renderer's peak rate.
            double factor = lr / options.LearningRate;
            foreach (var group in rendererOptimizer.ParamGroups)
                group.LearningRate = options.RendererLearningRate * factor;
        }
    }

    private void SaveCheckpoint(CheckpointState state, FaceNetwork network, OptimizerHelper optimizer, OptimizerHelper? rendererOptimizer, Dictionary<string, Tensor>? best)
    {
        CheckpointStore.Save(options.CheckpointDirectory!, state, dir =>
        {
            network.save(Path.Combine(dir, CheckpointStore.WeightsFile));
            optimizer.save_state_dict(Path.Combine(dir, CheckpointStore.OptimizerFile));
            rendererOptimizer?.save_state_dict(Path.Combine(dir, CheckpointStore.RendererOptimizerFile));
            if (best is not null)
            {
                using var bestNet = new FaceNetwork(options, train.ClassCount);
                using (no_grad())
                    bestNet.load_state_dict(best);
                bestNet.save(Path.Combine(dir, CheckpointStore.BestWeightsFile));
            }
        });
    }

    private static Dictionary<string, Tensor> Snapshot(FaceNetwork network)
    {
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, value) in network.state_dict())
            copy[name] = value.detach().cpu().clone();
        return copy;
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
            return;
        foreach (var t in tensors.Values)
            t.Dispose();
    }

    private string Fingerprint(int batchSize)
        => $"images={train.Count};classes={train.ClassCount};backbone={options.Backbone}{(options.EmbeddingNorm == LH2FaceEmbeddingNorm.FrozenScale ? "" : $"({options.EmbeddingNorm})")};input={options.InputSize};embedding={options.EmbeddingSize};" +
           $"head={options.Head};loss={LossConfiguration.ToJson(options)};optimizer={options.Optimizer};batch={batchSize};epochs={options.Epochs};seed={options.Seed}" + RendererTraining.Fingerprint(options);
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Data.Synthetic;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Settings;
using Microsoft.ML.LH2Face.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LH2Face.Benchmarks;

/// <summary>
/// Issue 15, item 5, the accuracy half: does bfloat16 compute keep the loss and the verification accuracy at equal
/// steps? The same network, batches, loss (the LH2Face preset without the kappa-ranking copies) and optimiser run twice
/// from the same initial weights: in float32, and with float32 master weights whose backbone computes in bfloat16 (a
/// bfloat16 copy of the backbone refreshed from the master weights before each step, its gradients copied back to the
/// master weights, its batch-norm averages copied back after the step: what an autocast would do for the backbone,
/// built by hand because TorchSharp 0.107 has none). Reported per precision: the median step time, the mean loss of
/// each epoch and the balanced pair accuracy on held-out SynthFace test identities.
/// </summary>
internal static class Bf16Training
{
    public static int Run(ReadOnlySpan<string> args)
    {
        int size = 64, embedding = 128, batch = 64, epochs = 4, identities = 200, images = 4000, validationIdentities = 100, seed = 42, threads = 1;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int v = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--input-size": size = v; break;
                case "--embedding-size": embedding = v; break;
                case "--batch": batch = v; break;
                case "--epochs": epochs = v; break;
                case "--identities": identities = v; break;
                case "--images": images = v; break;
                case "--validation-identities": validationIdentities = v; break;
                case "--seed": seed = v; break;
                case "--threads": threads = v; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}': use --input-size, --embedding-size, --batch, --epochs, --identities, --images, --validation-identities, --seed or --threads.");
            }
        }
        Console.WriteLine(GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed));
        set_num_threads(threads);
        var options = LH2FaceTrainer.Options.FromPreset(LH2FaceLossPreset.LH2Face);
        options.Backbone = LH2FaceBackbone.Compact;
        options.InputSize = size;
        options.EmbeddingSize = embedding;
        options.BatchSize = batch;
        options.Epochs = epochs;
        options.Seed = seed;
        options.Device = LH2FaceDevice.Cpu;
        options.KappaRankingWeight = 0;
        options.DegradedConsistencyWeight = 0;
        var settings = TrainerSettings.From(options);
        var train = OverheadBenchmark.Data(size, identities, images);
        var validation = Validation(size, validationIdentities);
        long stepsPerEpoch = BatchLoader.StepsPerEpochFor(train.Count, batch);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bf16-train: Compact at {size} px, {embedding}-d, batch {batch}, {epochs} epochs x {stepsPerEpoch} steps, LH2Face preset without kappa-ranking copies, " +
            $"{train.Count} SynthFace train images of {identities} identities, {validation.Count} held-out test images of {validationIdentities} identities, {get_num_threads()} thread(s)"));
        Console.WriteLine("| compute | step ms (median) | mean loss per epoch | held-out pair accuracy |");
        Console.WriteLine("|---|---:|---|---:|");
        foreach (bool bf16 in new[] { false, true })
        {
            var (stepMs, epochLosses, accuracy) = Train(settings, train, validation, stepsPerEpoch * epochs, stepsPerEpoch, bf16);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(bf16 ? "bfloat16 backbone, float32 master weights" : "float32")} | {stepMs:F0} | {string.Join(", ", epochLosses.Select(l => l.ToString("F4", CultureInfo.InvariantCulture)))} | {accuracy:P2} |"));
        }
        return 0;
    }

    /// <summary>The first 10 images of each of the first <paramref name="count"/> SynthFace small-protocol test identities.</summary>
    private static FaceImageSet Validation(int size, int count)
    {
        var generator = new SynthFaceGenerator(SynthFaceProtocol.Create(SynthFaceProtocolOptions.Small()).TestOptions);
        var rows = PixelRow.Generate(generator, count * 10, k => (k / 10, k % 10), size);
        return FaceImageSet.Load(PixelRow.LoadKeyed(new MLContext(seed: 1), rows, size), "Label", nameof(PixelRow.Pixels), size, long.MaxValue, "SynthFace test", CancellationToken.None);
    }

    private static (double StepMs, float[] EpochLosses, double Accuracy) Train(TrainerSettings settings, FaceImageSet train, FaceImageSet validation, long steps, long stepsPerEpoch, bool bf16)
    {
        int seed = settings.Run.Seed, batch = settings.Schedule.BatchSize, side = settings.Backbone.InputSize;
        random.manual_seed(seed);
        using var network = new FaceNetwork(settings.Network, train.ClassCount);
        network.RecordConvolutionSizes(side, CPU);
        network.CheckConvolutions(CPU);
        var b = settings.Backbone;
        using var low = bf16 ? BackboneFactory.Create(b.Kind, b.InputSize, b.EmbeddingSize, b.DropoutRate, b.EmbeddingNorm) : null;
        low?.to(ScalarType.BFloat16);
        var master = network.Backbone.parameters().ToArray();
        var masterBuffers = network.Backbone.buffers().ToArray();
        var lowParameters = low?.parameters().ToArray();
        var lowBuffers = low?.buffers().ToArray();
        using var optimizers = new OptimizerSet(settings.Schedule, settings.Loss.Proxies, settings.Renderer, network);
        var faceLoss = new FaceLoss(settings.Loss);
        var schedule = new LearningRateSchedule(settings.Schedule, stepsPerEpoch);
        using var loader = new BatchLoader(train, batch, seed, settings.Run.RandomHorizontalFlip, 0, steps, CancellationToken.None);
        var times = new List<double>();
        var epochLosses = new List<float>();
        double lossSum = 0;
        network.train();
        low?.train();
        for (long step = 0; step < steps; step++)
        {
            var next = loader.Next();
            var clock = Stopwatch.StartNew();
            float lossValue;
            using (CollectorPause.Start())
            using (NewDisposeScope())
            {
                optimizers.SetLearningRate(schedule.At(step));
                random.manual_seed(unchecked(seed * 1_000_003L + step));
                var pixels = next.PixelTensor(batch, side);
                var labels = tensor(next.Labels);
                loader.Release(next);
                Tensor z;
                if (low is null)
                {
                    z = network.Features(pixels);
                }
                else
                {
                    using (no_grad())
                    {
                        for (int i = 0; i < master.Length; i++)
                            lowParameters![i].copy_(master[i]);
                        for (int i = 0; i < masterBuffers.Length; i++)
                            lowBuffers![i].copy_(masterBuffers[i]);
                    }
                    using var mean = FaceNetwork.PixelMean.ToScalar();
                    using var scale = FaceNetwork.PixelScale.ToScalar();
                    z = low.forward(pixels.sub(mean).div(scale).to(ScalarType.BFloat16)).to(ScalarType.Float32);
                }
                var (embedding, norm) = FaceNetwork.Split(z);
                var loss = faceLoss.Compute(network.Head, embedding, norm, labels).Total;
                optimizers.ZeroGrad();
                low?.zero_grad();
                loss.backward();
                if (low is not null)
                {
                    using (no_grad())
                    {
                        for (int i = 0; i < master.Length; i++)
                        {
                            var g = lowParameters![i].grad;
                            if (g is null)
                                continue;
                            if (master[i].grad is null)
                                master[i].grad = g.to(ScalarType.Float32).DetachFromDisposeScope();
                            else
                                master[i].grad!.copy_(g);
                        }
                    }
                }
                optimizers.ClipAndStep();
                if (low is not null)
                {
                    using (no_grad())
                    {
                        for (int i = 0; i < masterBuffers.Length; i++)
                            masterBuffers[i].copy_(lowBuffers![i]);
                    }
                }
                lossValue = loss.item<float>();
            }
            times.Add(clock.Elapsed.TotalMilliseconds);
            lossSum += lossValue;
            if ((step + 1) % stepsPerEpoch == 0)
            {
                epochLosses.Add((float)(lossSum / stepsPerEpoch));
                lossSum = 0;
            }
        }
        network.eval();
        var embeddings = Embedder.Embed(network, validation, CPU);
        return (Statistics.Median(times), epochLosses.ToArray(), PairAccuracy.BestBalancedAccuracy(embeddings, validation.Labels));
    }
}

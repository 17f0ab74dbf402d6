using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Settings;
using Microsoft.ML.LH2Face.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LH2Face.Benchmarks;

/// <summary>
/// Issue 15, item 5: what Options.Precision = BFloat16 buys the backbone on this CPU: the training pass with the trunk in
/// bfloat16 against float32 master weights (as Fit runs it, convolution self-check included), against the same weights
/// in float32: the forward and backward time of one batch, interleaved in rounds whose order alternates, and how far
/// the bfloat16 pass's embeddings and first-layer weight gradients land from the float32 ones (relative L2 error).
/// </summary>
internal static class Bf16Benchmark
{
    public static int Run(ReadOnlySpan<string> args)
    {
        var backbone = LH2FaceBackbone.Compact;
        int size = 112, embedding = 512, batch = 64, steps = 5, rounds = 3, threads = 1;
        string? outPath = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--backbone": backbone = Enum.Parse<LH2FaceBackbone>(v, ignoreCase: true); break;
                case "--input-size": size = int.Parse(v); break;
                case "--embedding-size": embedding = int.Parse(v); break;
                case "--batch": batch = int.Parse(v); break;
                case "--steps": steps = int.Parse(v); break;
                case "--rounds": rounds = int.Parse(v); break;
                case "--threads": threads = int.Parse(v); break;
                case "--out": outPath = v; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}': use --backbone, --input-size, --embedding-size, --batch, --steps, --rounds, --threads or --out.");
            }
        }
        // The trainer's C heap policy first (Options.NativeHeap): without it glibc unmaps every large activation on free
        // and both precisions spend most of their time in page faults.
        Console.WriteLine(GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed));
        set_num_threads(threads);
        var options = new LH2FaceTrainer.Options { Backbone = backbone, InputSize = size, EmbeddingSize = embedding, Device = LH2FaceDevice.Cpu, DropoutRate = 0 };
        random.manual_seed(42);
        using var full = new FaceNetwork(TrainerSettings.From(options).Network, 10);
        random.manual_seed(42);
        using var half = new FaceNetwork(TrainerSettings.From(options).Network, 10);
        half.TrainingPrecision = LH2FacePrecision.BFloat16;
        foreach (var network in new[] { full, half })
        {
            // The routes Fit would train through (the bfloat16 check moves layers whose bfloat16 kernels are wrong).
            network.RecordConvolutionSizes(size, CPU);
            Console.WriteLine(Microsoft.ML.LH2Face.Numerics.ConvolutionSelfCheck.Describe(network.CheckConvolutions(CPU, useCache: false), TimeSpan.Zero));
        }
        full.train();
        half.train();
        random.manual_seed(7);
        using var pixels = rand(new long[] { batch, 3, size, size }) * 255;
        // The loss weighs each embedding value by a fixed random number: the embedding's batch norm makes plain sums
        // of z (or of z squared) constant, whose gradients are zero and would say nothing.
        using var weights = randn(new long[] { batch, embedding });

        Console.WriteLine($"Options.Precision BFloat16 against Float32: {backbone} at {size} px, {embedding}-d, batch {batch}, {threads} thread(s), {rounds} rounds of {steps} steps after 2 warm-up steps each");
        var (_, warmFull) = Step(full, pixels, weights);
        var (_, warmHalf) = Step(half, pixels, weights);
        warmFull.Dispose();
        warmHalf.Dispose();
        var fullTimes = new List<(double Forward, double Backward)>();
        var halfTimes = new List<(double Forward, double Backward)>();
        for (int round = 0; round < rounds; round++)
        {
            bool fullFirst = round % 2 == 0;
            foreach (bool isFull in fullFirst ? new[] { true, false } : new[] { false, true })
            {
                for (int s = 0; s < steps; s++)
                {
                    var (times, result) = Step(isFull ? full : half, pixels, weights);
                    result.Dispose();
                    (isFull ? fullTimes : halfTimes).Add(times);
                }
            }
        }

        // Accuracy on the same weights: one step each from the same state, compared in float64.
        var (_, fullResult) = Step(full, pixels, weights);
        var (_, halfResult) = Step(half, pixels, weights);
        double embeddingError = RelativeError(halfResult.Embedding, fullResult.Embedding);
        double gradientError = RelativeError(halfResult.Gradient, fullResult.Gradient);
        fullResult.Dispose();
        halfResult.Dispose();

        double fullStep = Statistics.Median(fullTimes.Select(t => t.Forward + t.Backward));
        double halfStep = Statistics.Median(halfTimes.Select(t => t.Forward + t.Backward));
        Console.WriteLine("| precision | forward ms (median) | backward ms (median) | step ms (median) | img/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine($"| float32 | {Statistics.Median(fullTimes.Select(t => t.Forward)):F1} | {Statistics.Median(fullTimes.Select(t => t.Backward)):F1} | {fullStep:F1} | {batch * 1000 / fullStep:F1} |");
        Console.WriteLine($"| bfloat16 | {Statistics.Median(halfTimes.Select(t => t.Forward)):F1} | {Statistics.Median(halfTimes.Select(t => t.Backward)):F1} | {halfStep:F1} | {batch * 1000 / halfStep:F1} |");
        Console.WriteLine($"bfloat16 / float32 step time: {halfStep / fullStep:F3}; relative L2 error of bfloat16: embeddings {embeddingError:E2}, first-layer weight gradient {gradientError:E2}");
        if (outPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            File.WriteAllText(outPath, JsonSerializer.Serialize(new
            {
                backbone = backbone.ToString(), size, embedding, batch, steps, rounds, threads,
                float32 = fullTimes.Select(t => new { forward_ms = t.Forward, backward_ms = t.Backward }),
                bfloat16 = halfTimes.Select(t => new { forward_ms = t.Forward, backward_ms = t.Backward }),
                step_ratio = halfStep / fullStep, embedding_relative_error = embeddingError, gradient_relative_error = gradientError,
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    private sealed record Result(Tensor Embedding, Tensor Gradient) : IDisposable
    {
        public void Dispose()
        {
            Embedding.Dispose();
            Gradient.Dispose();
        }
    }

    /// <summary>One forward and backward pass (loss: a fixed random weighting of z); the embedding and the first convolution's weight gradient as float64 copies.</summary>
    private static ((double Forward, double Backward) Times, Result Result) Step(FaceNetwork network, Tensor pixels, Tensor weights)
    {
        using var scope = NewDisposeScope();
        var first = network.Backbone.parameters().First(p => p.dim() == 4);
        first.grad?.zero_();
        var clock = Stopwatch.StartNew();
        var z = network.Features(pixels);
        var loss = (z * weights).sum();
        _ = loss.item<float>();
        double forward = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        loss.backward();
        _ = first.grad!.sum().item<float>();
        double backward = clock.Elapsed.TotalMilliseconds;
        var result = new Result(z.detach().to(ScalarType.Float64).MoveToOuterDisposeScope(), first.grad!.to(ScalarType.Float64).MoveToOuterDisposeScope());
        return ((forward, backward), result);
    }

    private static double RelativeError(Tensor value, Tensor reference)
    {
        using var scope = NewDisposeScope();
        return (value - reference).norm().item<double>() / reference.norm().item<double>();
    }
}

using System.Diagnostics;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Settings;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace LH2Face.Benchmarks;

/// <summary>
/// Time of the convolution self-check that starts every Fit (issue #11: "well under a second"), per
/// backbone at the input size, with the renderer on: a fresh network each run, so nothing is cached;
/// the median over runs, and the shapes checked.
/// </summary>
internal static class ConvolutionCheckBenchmark
{
    public static int Run(ReadOnlySpan<string> args)
    {
        int size = 112, resolution = 64, runs = 3;
        var backbones = Enum.GetValues<LH2FaceBackbone>().ToList();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--size": size = int.Parse(v); break;
                case "--resolution": resolution = int.Parse(v); break;
                case "--runs": runs = int.Parse(v); break;
                case "--backbones": backbones = v.Split(',').Select(b => Enum.Parse<LH2FaceBackbone>(b, ignoreCase: true)).ToList(); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}': use --size, --resolution, --runs or --backbones.");
            }
        }
        Console.WriteLine($"Convolution self-check, input {size} px, renderer {resolution} px, {get_num_threads()} thread(s), median of {runs} runs");
        Console.WriteLine("| backbone | shapes | rerouted | check ms (median) | check ms (runs) | size-recording pass ms (median) |");
        Console.WriteLine("|---|---:|---:|---:|---|---:|");
        foreach (var backbone in backbones)
        {
            var options = new LH2FaceTrainer.Options { Backbone = backbone, InputSize = size, EmbeddingSize = 512, UseRenderer = true, RendererResolution = resolution };
            var times = new List<double>();
            var passes = new List<double>();
            int shapes = 0, rerouted = 0;
            for (int r = 0; r < runs; r++)
            {
                using var network = new FaceNetwork(TrainerSettings.From(options).Network, 10);
                var clock = Stopwatch.StartNew();
                network.RecordConvolutionSizes(size, CPU);
                passes.Add(clock.Elapsed.TotalMilliseconds);
                clock.Restart();
                var checks = network.CheckConvolutions(CPU, useCache: false);
                times.Add(clock.Elapsed.TotalMilliseconds);
                shapes = checks.Count;
                rerouted = checks.Count(c => c.Rerouted);
            }
            Console.WriteLine($"| {backbone} | {shapes} | {rerouted} | {Statistics.Median(times):F0} | {string.Join(", ", times.Select(t => t.ToString("F0")))} | {Statistics.Median(passes):F0} |");
        }
        return 0;
    }
}

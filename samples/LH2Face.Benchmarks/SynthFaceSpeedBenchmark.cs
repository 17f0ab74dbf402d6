using Microsoft.ML.LH2Face.Data.Synthetic;

namespace LH2Face.Benchmarks;

/// <summary>SynthFace generation speed: 112x112 images per second per core (median of runs, single thread).</summary>
internal static class SynthFaceSpeedBenchmark
{
    public static int Run(ReadOnlySpan<string> args)
    {
        int runs = 7, images = 400;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[i + 1]); break;
                case "--images": images = int.Parse(args[i + 1]); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}': use --runs or --images.");
            }
        }
        var speed = SynthFaceBenchmark.Measure(imagesPerRun: images, runs: runs);
        Console.WriteLine($"synthface: {speed.ImageSize}x{speed.ImageSize}, {speed.ImagesPerRun} images per run, {speed.Threads} thread(s)");
        Console.WriteLine($"runs (images/s): {string.Join(", ", speed.Runs.Select(r => r.ToString("F0")))}");
        Console.WriteLine($"runs (images per CPU second): {string.Join(", ", speed.CpuRuns.Select(r => r.ToString("F0")))}");
        Console.WriteLine($"median: {speed.ImagesPerSecondPerCore:F0} images/s per core by the wall clock, {speed.ImagesPerCpuSecond:F0} per CPU second (target >= 500)");
        Console.WriteLine("(the wall-clock rate drops when other processes share the cores; the CPU-second rate does not)");
        return 0;
    }
}

using LH2Face.Benchmarks;

// Usage: dotnet run -c Release --project samples/LH2Face.Benchmarks -- metrics [--pairs N] [--templates N] [--dim N] [--runs N] [--out file.json] [--report folder]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- synthface [--runs N] [--images N]
switch (args.Length == 0 ? "" : args[0])
{
    case "metrics":
        return MetricsBenchmark.Run(MetricsBenchmark.Settings.Parse(args.AsSpan(1)));
    case "synthface":
        return SynthFaceSpeedBenchmark.Run(args.AsSpan(1));
    case "renderer": return RendererCostBenchmark.Run(args.AsSpan(1)); // [--size 64] [--resolution 64] [--batch 32] [--steps 10] [--runs 2] [--backbone Compact]
    default:
        Console.Error.WriteLine("usage: LH2Face.Benchmarks metrics [--pairs 8000000] [--templates 10000] [--dim 512] [--runs 5] [--out artifacts/metrics-benchmark.json] [--report folder]");
        Console.Error.WriteLine("       LH2Face.Benchmarks synthface [--runs 7] [--images 400]");
        return 2;
}

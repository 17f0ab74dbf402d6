using LH2Face.Benchmarks;

// Usage: dotnet run -c Release --project samples/LH2Face.Benchmarks -- metrics [--pairs N] [--templates N] [--dim N] [--runs N] [--out file.json] [--report folder]
if (args.Length == 0 || args[0] != "metrics")
{
    Console.Error.WriteLine("usage: LH2Face.Benchmarks metrics [--pairs 8000000] [--templates 10000] [--dim 512] [--runs 5] [--out artifacts/metrics-benchmark.json] [--report folder]");
    return 2;
}
var settings = MetricsBenchmark.Settings.Parse(args.AsSpan(1));
return MetricsBenchmark.Run(settings);

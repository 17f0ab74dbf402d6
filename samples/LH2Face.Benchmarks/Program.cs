using LH2Face.Benchmarks;
using LH2Face.Benchmarks.Comparison;

// Usage: dotnet run -c Release --project samples/LH2Face.Benchmarks -- metrics [--pairs N] [--templates N] [--dim N] [--runs N] [--out file.json] [--report folder]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- synthface [--runs N] [--images N]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- losses [--runs N] [--steps N] [--classes 10000,100000] [--batch N] [--dim N] [--sample-rate R] [--threads N] [--only name,name] [--out file.json]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- compare [--variant Name=Preset;Option=value ...] [--seeds 42,43,44] [--split test|validation] [--out folder] ...
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- convcheck [--size 112] [--resolution 64] [--runs 3] [--backbones list]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- renderer-effect [--epochs N] [--input-size S] [--resolution R] ...
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- bf16 [--backbone Compact] [--input-size 112] [--batch 64] [--steps 5] [--rounds 3] [--threads 1]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- overhead-memory [--repeats 2] [overhead's options]
//        dotnet run -c Release --project samples/LH2Face.Benchmarks -- overhead [--backbone Compact] [--input-size 112] [--batch 128] [--steps 20] [--rounds 3] [--threads 1] [--out file.json] ...
if (args.Any(a => a is "--help" or "-h"))
{
    Usage();
    return 0;
}

switch (args.Length == 0 ? "" : args[0])
{
    case "metrics":
        return MetricsBenchmark.Run(MetricsBenchmark.Settings.Parse(args.AsSpan(1)));
    case "synthface":
        return SynthFaceSpeedBenchmark.Run(args.AsSpan(1));
    case "losses":
        return LossBenchmark.Run(args.AsSpan(1));
    case "renderer": return RendererCostBenchmark.Run(args.AsSpan(1)); // [--size 64] [--resolution 64] [--batch 32] [--steps 10] [--runs 2] [--backbone Compact]
    case "renderer-effect":
        return RendererEffectBenchmark.Run(args.AsSpan(1));
    case "compare":
        return ComparisonBenchmark.Run(args.AsSpan(1), "dotnet run -c Release --project samples/LH2Face.Benchmarks -- " + string.Join(" ", args.Select(a => a.Contains(' ') || a.Contains(';') ? $"\"{a}\"" : a)));
    case "compare-run":
        return ComparisonRun.Run(args.AsSpan(1));
    case "convcheck":
        return ConvolutionCheckBenchmark.Run(args.AsSpan(1));
    case "overhead-memory":
        return OverheadMemory.Run(args.AsSpan(1));
    case "bf16":
        return Bf16Benchmark.Run(args.AsSpan(1));
    case "overhead":
        return OverheadBenchmark.Run(args.AsSpan(1), "dotnet run -c Release --project samples/LH2Face.Benchmarks -- " + string.Join(" ", args));
    default:
        Usage();
        return 2;
}

static void Usage()
{
    Console.Error.WriteLine("usage: LH2Face.Benchmarks metrics [--pairs 8000000] [--templates 10000] [--dim 512] [--runs 5] [--out artifacts/metrics-benchmark.json] [--report folder]");
    Console.Error.WriteLine("       LH2Face.Benchmarks synthface [--runs 7] [--images 400]");
    Console.Error.WriteLine("       LH2Face.Benchmarks losses [--runs 7] [--steps 2] [--classes 10000,100000] [--batch 128] [--dim 512] [--sample-rate 0.1] [--threads N] [--only name,name] [--out file.json]");
    Console.Error.WriteLine("       LH2Face.Benchmarks renderer [--size 64] [--resolution 64] [--batch 32] [--steps 10] [--runs 2] [--backbone Compact]");
    Console.Error.WriteLine("       LH2Face.Benchmarks compare [--variant Name=Preset;Option=value;... (repeat) | --variants ArcFace,CosFace,AdaFace,MagFace,LH2Face] [--baseline ArcFace] [--seeds 42,43,44]");
    Console.Error.WriteLine("                 [--epochs 12] [--input-size 64] [--backbone Compact] [--embedding-size 128] [--batch 64] [--set Option=value (repeat)]");
    Console.Error.WriteLine("                 [--split test|validation] [--validation-identities 50] [--train-seed 1] [--test-seed 1000003] [--train-identities 200]");
    Console.Error.WriteLine("                 [--bootstrap 1000] [--threads 1] [--jobs 2] [--out artifacts/compare] [--report-only]");
    Console.Error.WriteLine("       LH2Face.Benchmarks convcheck [--size 112] [--resolution 64] [--runs 3] [--backbones Compact,IResNet18]");
    Console.Error.WriteLine("       LH2Face.Benchmarks overhead [--backbone Compact] [--input-size 112] [--embedding-size 512] [--batch 128] [--identities 200] [--images 4000]");
    Console.Error.WriteLine("                 [--steps 20] [--rounds 3] [--warmup-steps 3] [--threads 1] [--seed 42] [--preset LH2Face] [--native-heap KeepFreed|Unchanged] [--path trainer|bare|both] [--out artifacts/overhead.json]");
    Console.Error.WriteLine("       LH2Face.Benchmarks overhead-memory [--repeats 2] [--out file.json] [overhead's options but --path]: peak RSS of each path in its own process");
    Console.Error.WriteLine("       LH2Face.Benchmarks bf16 [--backbone Compact] [--input-size 112] [--embedding-size 512] [--batch 64] [--steps 5] [--rounds 3] [--threads 1] [--out file.json]");
    Console.Error.WriteLine("       LH2Face.Benchmarks renderer-effect [--epochs 3] [--input-size 64] [--resolution 32] [--batch 64] [--max-steps 0] [--embedding-size 128] [--backbone Compact] [--seed 42] [--train-identities 200]");
}


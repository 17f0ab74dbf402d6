using System.Diagnostics;
using System.Globalization;

namespace LH2Face.Benchmarks.Comparison;

/// <summary>
/// The compare command (issue #12): trains every variant with every seed at the same budget on a
/// SynthFace protocol (the test split, or a validation split of the training identities for choosing
/// settings), each run in a child process (the trainer's random stream is process-wide, so runs in
/// parallel must not share one), then writes report.md, report.json and roc.png. Runs already in the
/// output folder with the same plan are reused, so an interrupted comparison continues where it stopped
/// and a new variant adds only its own runs.
/// </summary>
internal static class ComparisonBenchmark
{
    public static int Run(ReadOnlySpan<string> args, string commandLine)
    {
        var (plan, output) = ComparisonPlan.Parse(args);
        Directory.CreateDirectory(output);
        string planPath = Path.GetFullPath(Path.Combine(output, plan.ReportOnly ? "plan.report-only.json" : "plan.json"));
        plan.Save(planPath);
        var variants = plan.ParsedVariants();
        string fingerprint = plan.Fingerprint();
        var pending = new List<(int Variant, int Seed, string File)>();
        foreach (var (variant, index) in variants.Select((v, i) => (v, i)))
        {
            foreach (int seed in plan.Seeds)
            {
                string file = RunFile(output, variant, seed);
                var existing = ComparisonRunResult.TryLoad(file);
                if (!plan.ReportOnly && (existing is null || existing.Fingerprint != fingerprint || existing.Spec != variant.Spec))
                    pending.Add((index, seed, file));
            }
        }
        var clock = Stopwatch.StartNew();
        Console.Error.WriteLine($"compare: {variants.Count} variants x {plan.Seeds.Count} seeds, {pending.Count} runs to train ({variants.Count * plan.Seeds.Count - pending.Count} reused), {plan.Jobs} at a time, into {output}");
        var failed = new List<string>();
        Parallel.ForEach(pending, new ParallelOptions { MaxDegreeOfParallelism = plan.Jobs }, run =>
        {
            var variant = variants[run.Variant];
            int code = Child(planPath, run.Variant, run.Seed, run.File, plan.Threads, $"{variant.Name} seed {run.Seed}");
            lock (failed)
            {
                if (code != 0)
                    failed.Add($"{variant.Name} seed {run.Seed} (exit {code})");
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compare: {variant.Name} seed {run.Seed} {(code == 0 ? "done" : $"FAILED ({code})")} at {clock.Elapsed.TotalMinutes:F1} min"));
            }
        });

        var data = ComparisonData.Create(plan);
        var runs = new Dictionary<string, List<ComparisonRunResult>>();
        var missing = new List<string>();
        foreach (var variant in variants)
        {
            var results = new List<ComparisonRunResult>();
            foreach (int seed in plan.Seeds)
            {
                var r = ComparisonRunResult.TryLoad(RunFile(output, variant, seed));
                if (r is not null && r.Fingerprint == fingerprint && r.Spec == variant.Spec && r.Scores.Length == data.IsGenuine.Length)
                    results.Add(r);
                else
                    missing.Add($"{variant.Name} seed {seed}");
            }
            runs[variant.Name] = results;
        }
        if (runs[plan.Baseline].Count == 0)
        {
            Console.Error.WriteLine($"compare: the baseline {plan.Baseline} has no finished run; nothing to report. Failed: {string.Join(", ", failed)}");
            return 1;
        }
        var report = ComparisonReport.Build(plan, data, runs, missing);
        File.WriteAllText(Path.Combine(output, "report.md"), report.ToMarkdown(commandLine));
        File.WriteAllText(Path.Combine(output, "report.json"), report.ToJson());
        File.WriteAllBytes(Path.Combine(output, "roc.png"), ComparisonReport.RocPlot(plan, data, runs));
        Console.WriteLine(File.ReadAllText(Path.Combine(output, "report.md")));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compare: report in {output} after {clock.Elapsed.TotalMinutes:F1} min{(missing.Count > 0 ? $"; missing {string.Join(", ", missing)}" : "")}"));
        return missing.Count == 0 ? 0 : 1;
    }

    private static string RunFile(string output, ComparisonVariant variant, int seed)
        => Path.Combine(output, "runs", variant.FileName, $"seed-{seed}.json");

    /// <summary>Runs compare-run in a child process with <paramref name="threads"/> OpenMP threads; its stderr lines go to ours.</summary>
    private static int Child(string planPath, int variant, int seed, string file, int threads, string name)
    {
        string self = typeof(ComparisonBenchmark).Assembly.Location;
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(self);
        foreach (var a in new[] { "compare-run", planPath, variant.ToString(CultureInfo.InvariantCulture), seed.ToString(CultureInfo.InvariantCulture), Path.GetFullPath(file) })
            start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        // The trainer's heap setting (Options.NativeHeap = KeepFreed, src/Microsoft.ML.LH2Face/Native/GlibcHeap.cs) through glibc's
        // environment tunables, so it holds from the child's start: freed activations stay in the heap instead of being
        // unmapped and faulted in again every step. Every run gets it alike.
        start.Environment["MALLOC_MMAP_MAX_"] = "0";
        start.Environment["MALLOC_TRIM_THRESHOLD_"] = "2147483647";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a compare-run child process.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && !line.Contains("NNPACK", StringComparison.Ordinal))
                Console.Error.WriteLine(line);
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
                Console.Error.WriteLine($"  [{name}] {line}");
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        process.WaitForExit();
        return process.ExitCode;
    }
}

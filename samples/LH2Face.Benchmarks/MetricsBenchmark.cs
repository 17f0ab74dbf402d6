using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Reports;

namespace LH2Face.Benchmarks;

/// <summary>Times IJB-style template pair scoring and ROC + TAR@FAR; reports medians of several runs.</summary>
internal static class MetricsBenchmark
{
    public sealed record Settings(int Pairs, int Templates, int Dimension, int Runs, string OutPath, string ReportDirectory)
    {
        public static Settings Parse(ReadOnlySpan<string> args)
        {
            var s = new Settings(8_000_000, 10_000, 512, 5, Path.Combine("artifacts", "metrics-benchmark.json"), "");
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                string v = args[i + 1];
                s = args[i] switch
                {
                    "--pairs" => s with { Pairs = int.Parse(v) },
                    "--templates" => s with { Templates = int.Parse(v) },
                    "--dim" => s with { Dimension = int.Parse(v) },
                    "--runs" => s with { Runs = int.Parse(v) },
                    "--out" => s with { OutPath = v },
                    "--report" => s with { ReportDirectory = v },
                    _ => throw new ArgumentException($"Unknown option '{args[i]}': use --pairs, --templates, --dim, --runs, --out or --report."),
                };
            }
            return s;
        }
    }

    public static int Run(Settings s)
    {
        Console.WriteLine($"metrics benchmark: {s.Pairs:N0} pairs, {s.Templates:N0} templates, dim {s.Dimension}, {s.Runs} runs, {Environment.ProcessorCount} logical CPUs");
        var random = new Random(20240601);
        // Templates: identity direction + noise, so genuine pairs score higher than impostors.
        int identities = s.Templates / 2;
        var templateIdentity = new int[s.Templates];
        var centres = new float[identities * s.Dimension];
        for (int i = 0; i < centres.Length; i++)
            centres[i] = (float)(random.NextDouble() * 2 - 1);
        var features = new float[s.Templates][];
        for (int t = 0; t < s.Templates; t++)
        {
            int id = t % identities;
            templateIdentity[t] = id;
            features[t] = new float[s.Dimension];
            for (int d = 0; d < s.Dimension; d++)
                features[t][d] = 0.5f * centres[id * s.Dimension + d] + (float)(random.NextDouble() * 2 - 1);
        }
        var templateIds = Enumerable.Range(0, s.Templates).Select(t => 1000 + t).ToArray();
        var mediaIds = Enumerable.Range(0, s.Templates).ToArray();
        var faceness = Enumerable.Repeat(1f, s.Templates).ToArray();
        var templates = IjbTemplates.Aggregate(features, templateIds, mediaIds, faceness);

        // IJB-B has about 10k genuine pairs per 8M; use 1 in 100 genuine so every FAR level has impostors.
        var tid1 = new int[s.Pairs];
        var tid2 = new int[s.Pairs];
        var isGenuine = new bool[s.Pairs];
        for (int k = 0; k < s.Pairs; k++)
        {
            int a = random.Next(s.Templates);
            int b = k % 100 == 0 ? (a + identities) % s.Templates : random.Next(s.Templates);
            if (b == a)
                b = (a + 1) % s.Templates;
            tid1[k] = templateIds[a];
            tid2[k] = templateIds[b];
            isGenuine[k] = templateIdentity[a] == templateIdentity[b];
        }

        float[] scores = Array.Empty<float>();
        var scoring = Time(s.Runs, () => scores = IjbTemplates.ScorePairs(templates, tid1, tid2));
        VerificationResult? result = null;
        var roc = Time(s.Runs, () =>
        {
            var curve = RocCurve.Compute(scores, isGenuine);
            _ = VerificationMetrics.TarAtFars(curve, VerificationMetrics.StandardFars);
        });
        result = VerificationMetrics.Evaluate(scores, isGenuine);

        Console.WriteLine($"score pairs      median {Statistics.Median(scoring):F3} s  (runs: {string.Join(", ", scoring.Select(x => x.ToString("F3")))})");
        Console.WriteLine($"ROC + TAR@FAR    median {Statistics.Median(roc):F3} s  (runs: {string.Join(", ", roc.Select(x => x.ToString("F3")))})");
        foreach (var t in result.TarAtFar)
            Console.WriteLine($"  TAR@FAR={t.TargetFar:0e0}: {t.Tar:P2} (FAR {t.Far:0.###e0}{(t.IsBelowResolution ? ", below resolution" : "")})");

        var json = new
        {
            s.Pairs, s.Templates, s.Dimension, s.Runs, Environment.ProcessorCount,
            ScoringSecondsMedian = Statistics.Median(scoring), ScoringSeconds = scoring,
            RocTarAtFarSecondsMedian = Statistics.Median(roc), RocTarAtFarSeconds = roc,
            RocPoints = result.Roc.Count,
            TarAtFar = result.TarAtFar.Select(t => new { t.TargetFar, t.Tar, t.Far, t.IsBelowResolution }),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.OutPath))!);
        File.WriteAllText(s.OutPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Path.GetFullPath(s.OutPath)}");
        if (s.ReportDirectory.Length > 0)
        {
            var sw = Stopwatch.StartNew();
            var report = new EvaluationReport($"Metrics benchmark: {s.Pairs:N0} synthetic template pairs").AddVerification("synthetic IJB-like", result);
            var files = EvaluationReportWriter.Write(report, s.ReportDirectory, "metrics-benchmark");
            Console.WriteLine($"report {files.Markdown} ({files.Plots.Count} plots) in {sw.Elapsed.TotalSeconds:F2} s");
        }
        return 0;
    }

    private static double[] Time(int runs, Action action)
    {
        var seconds = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            GC.Collect();
            var sw = Stopwatch.StartNew();
            action();
            seconds[r] = sw.Elapsed.TotalSeconds;
        }
        return seconds;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Settings;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace LH2Face.Benchmarks;

/// <summary>
/// Step time (forward + backward) of each head with its loss terms on random 512-d features, batch 128, for 10k and 100k
/// identities: no backbone and no optimiser step, so it measures the loss code alone. Every configuration runs once per round,
/// rounds interleave the configurations (so load on a shared machine hits all alike), and each time is the median over rounds
/// of the mean of a few steps. The ratio to ArcFace (all classes, same identity count) is the median over rounds of the ratio
/// within the round, which drifting load on a shared machine disturbs less than a ratio of medians.
/// </summary>
internal static class LossBenchmark
{
    private sealed record Case(string Name, LH2FaceTrainer.Options Options);

    private sealed record Result(string Name, int Classes, double SampleRate, double MedianMs, double RatioToArcFace, double[] RunsMs, double[] RoundRatios);

    public static int Run(ReadOnlySpan<string> args)
    {
        int runs = 7, steps = 2, batch = 128, dim = 512;
        double sampleRate = 0.1;
        int[] classCounts = { 10_000, 100_000 };
        string? outFile = null;
        string[]? only = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--runs": runs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--dim": dim = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--sample-rate": sampleRate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--classes": classCounts = value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--out": outFile = value; break;
                case "--only": only = value.Split(','); break;
                case "--threads": set_num_threads(int.Parse(value, CultureInfo.InvariantCulture)); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}': use --runs, --steps, --classes, --batch, --dim, --sample-rate, --threads, --only or --out.");
            }
        }

        // The trainer's C heap policy (Options.NativeHeap), so the heads are timed as training runs them: without it glibc
        // unmaps and faults in the large logit and gradient blocks every step, and the allocator's noise swamps the heads.
        Console.WriteLine(GlibcHeap.Apply(LH2FaceNativeHeap.KeepFreed));
        Console.WriteLine($"losses: batch {batch}, {dim}-d, forward + backward of head + loss terms, {get_num_threads()} torch thread(s), " +
            $"{runs} rounds x {steps} steps after one warm-up round, median per step");
        var results = new List<Result>();
        foreach (int classes in classCounts)
            results.AddRange(Measure(Cases(dim, sampleRate, only), classes, batch, dim, runs, steps));

        Console.WriteLine();
        Console.WriteLine($"{"loss",-48} {"classes",8} {"sample",6} {"median ms",10} {"x ArcFace",9}  per-round ratios");
        foreach (var r in results)
            Console.WriteLine($"{r.Name,-48} {r.Classes,8} {r.SampleRate,6:0.##} {r.MedianMs,10:F1} {r.RatioToArcFace,9:F2}  {string.Join(" ", r.RoundRatios.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))}");
        if (outFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
            File.WriteAllText(outFile, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {outFile}");
        }
        return 0;
    }

    /// <summary>The configurations; <paramref name="only"/> keeps those whose name contains one of its parts (ArcFace, the reference, always).</summary>
    private static List<Case> Cases(int dim, double sampleRate, string[]? only)
    {
        LH2FaceTrainer.Options Preset(LH2FaceLossPreset preset, Action<LH2FaceTrainer.Options>? change = null)
        {
            var o = LH2FaceTrainer.Options.FromPreset(preset);
            o.EmbeddingSize = dim;
            change?.Invoke(o);
            return o;
        }
        float rate = (float)sampleRate;
        // The proxy terms at METHOD.md's weights (1 each), as the LH2FaceLiteral preset has them; the LH2Face preset has them off.
        static void Proxies(LH2FaceTrainer.Options o) => o.ProxyPositiveSampleWeight = o.ProxyNegativeSampleWeight = o.ProxyProxyWeight = 1;
        var cases = new List<Case>
        {
            new("ArcFace", Preset(LH2FaceLossPreset.ArcFace)),
            new("CosFace", Preset(LH2FaceLossPreset.CosFace)),
            new("Softmax", Preset(LH2FaceLossPreset.Softmax)),
            new("AdaFace", Preset(LH2FaceLossPreset.AdaFace)),
            new("MagFace", Preset(LH2FaceLossPreset.MagFace)),
            new("LH2Face default (L_vMF + g, no proxy terms)", Preset(LH2FaceLossPreset.LH2Face)),
            new("LH2Face default, VmfNll norm control", Preset(LH2FaceLossPreset.LH2Face, o => o.NormControl = LH2FaceNormControl.VmfNll)),
            new("LH2Face + proxy terms (auto proxy sample)", Preset(LH2FaceLossPreset.LH2Face, Proxies)),
            new("LH2Face + proxy terms, every proxy (ProxySampleRate 1)", Preset(LH2FaceLossPreset.LH2Face, o => { Proxies(o); o.ProxySampleRate = 1; })),
            new($"LH2Face + proxy terms on {sampleRate:0.##} of proxies", Preset(LH2FaceLossPreset.LH2Face, o => { Proxies(o); o.ProxySampleRate = rate; })),
            new("LH2FaceLiteral preset", Preset(LH2FaceLossPreset.LH2FaceLiteral)),
            new($"ArcFace, Partial FC {sampleRate:0.##}", Preset(LH2FaceLossPreset.ArcFace, o => o.SampleRate = rate)),
            new($"LH2Face default, Partial FC {sampleRate:0.##}", Preset(LH2FaceLossPreset.LH2Face, o => o.SampleRate = rate)),
        };
        return only is null ? cases : cases.Where((c, i) => i == 0 || only.Any(o => c.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    private static IEnumerable<Result> Measure(List<Case> cases, int classes, int batch, int dim, int runs, int steps)
    {
        Console.WriteLine($"{classes} identities: building {cases.Count} heads");
        var heads = cases.Select(c => HeadFactory.Create(TrainerSettings.From(c.Options).Loss.Head, classes)).ToList();
        var losses = cases.Select(c => new FaceLoss(TrainerSettings.From(c.Options).Loss)).ToList();
        foreach (var head in heads)
            head.train();
        var times = cases.Select(_ => new List<double>()).ToList();
        manual_seed(1);
        for (int round = 0; round <= runs; round++)
        {
            for (int c = 0; c < cases.Count; c++)
            {
                double ms = TimeSteps(heads[c], losses[c], classes, batch, dim, steps);
                if (round > 0)
                    times[c].Add(ms);
            }
            Console.WriteLine($"  round {round}{(round == 0 ? " (warm-up)" : "")}: " + string.Join(", ", cases.Select((c, i) => $"{i}:{Short(c.Name)} {(round == 0 ? 0 : times[i][^1]):F0}")));
        }
        for (int c = 0; c < cases.Count; c++)
        {
            var ratios = times[c].Select((t, round) => t / times[0][round]).ToList();
            yield return new Result(cases[c].Name, classes, cases[c].Options.SampleRate, Statistics.Median(times[c]), Statistics.Median(ratios), times[c].ToArray(), ratios.ToArray());
        }
        foreach (var head in heads)
            head.Dispose();
    }

    /// <summary>Mean milliseconds of one forward + backward over <paramref name="steps"/> steps of fresh random features and labels.</summary>
    private static double TimeSteps(MarginHead head, FaceLoss loss, int classes, int batch, int dim, int steps)
    {
        double total = 0;
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            var z = (randn(batch, dim) * 3).requires_grad_(true);
            var labels = randint(0, classes, new long[] { batch }, ScalarType.Int64);
            head.zero_grad();
            var clock = Stopwatch.StartNew();
            var (x, n) = FaceNetwork.Split(z);
            var output = loss.Compute(head, x, n, labels);
            output.Total.backward();
            _ = output.Total.item<float>();
            total += clock.Elapsed.TotalMilliseconds;
        }
        return total / steps;
    }

    private static string Short(string name) => name.Length <= 12 ? name : name[..12];
}

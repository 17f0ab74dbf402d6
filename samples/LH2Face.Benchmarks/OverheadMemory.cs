using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace LH2Face.Benchmarks;

/// <summary>
/// Issue 15, item 1: the trainer's peak memory against a bare TorchSharp loop's on the same network, loss and batches
/// (target: at most 1.3x). Peak resident memory belongs to a process, so each path runs alone in a child process of this
/// tool (<c>overhead --path trainer|bare</c>, the same settings as <c>overhead</c>), alternating trainer and bare for
/// --repeats pairs; each child reports its VmHWM from the start of training (the count restarted after SynthFace was
/// generated in the child and its leftovers collected; the generation's own peak is shown beside it). Reported: every
/// child's peak, the median per path and the ratio of the medians, and the same for the growth in training.
/// </summary>
internal static class OverheadMemory
{
    private sealed record Child(string Path, int Repeat, long PeakKib, double Seconds, string SpeedLine, long DataPeakKib, bool FromTraining, long StartKib, string StartParts);

    public static int Run(ReadOnlySpan<string> args)
    {
        int repeats = 2;
        string? outFile = null;
        var passOn = new List<string>();
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
                throw new ArgumentException($"Option '{args[i]}' needs a value.");
            switch (args[i])
            {
                case "--repeats": repeats = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--out": outFile = args[i + 1]; break;
                case "--path": throw new ArgumentException("overhead-memory runs both paths; --path belongs to overhead.");
                default:
                    passOn.Add(args[i]);
                    passOn.Add(args[i + 1]);
                    break;
            }
        }
        if (repeats < 1)
            throw new ArgumentException("--repeats must be at least 1.");
        string tool = typeof(OverheadMemory).Assembly.Location;
        Console.WriteLine($"overhead-memory: each path alone in its own process, {repeats} pair(s), alternating; settings: overhead {string.Join(" ", passOn)}");
        var children = new List<Child>();
        for (int r = 0; r < repeats; r++)
        {
            foreach (var path in r % 2 == 0 ? new[] { "trainer", "bare" } : new[] { "bare", "trainer" })
            {
                var child = RunChild(tool, path, r, passOn);
                children.Add(child);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {path,-7} #{r + 1}: peak RSS {child.PeakKib / 1048576.0:F2} GiB {(child.FromTraining ? "in training" : "over the process")} " +
                    $"(from {child.StartKib / 1048576.0:F2} GiB resident at its start: {child.StartParts}; making the data peaked at {child.DataPeakKib / 1048576.0:F2} GiB before), {child.Seconds:F0} s; {child.SpeedLine}"));
            }
        }
        double trainer = Statistics.Median(children.Where(c => c.Path == "trainer").Select(c => (double)c.PeakKib));
        double bare = Statistics.Median(children.Where(c => c.Path == "bare").Select(c => (double)c.PeakKib));
        double ratio = trainer / bare;
        // What each path added in training over the memory it started from: the starting residue (the runtime's and the
        // C heap's leftovers of making the data) varies by several hundred MB between processes, the growth does not.
        double trainerGrowth = Statistics.Median(children.Where(c => c.Path == "trainer").Select(c => (double)(c.PeakKib - c.StartKib)));
        double bareGrowth = Statistics.Median(children.Where(c => c.Path == "bare").Select(c => (double)(c.PeakKib - c.StartKib)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median peak RSS: trainer {trainer / 1048576:F2} GiB, bare loop {bare / 1048576:F2} GiB, trainer / bare {ratio:F3} (target <= 1.3: {(ratio <= 1.3 ? "met" : "not met")}); " +
            $"growth in training: trainer {trainerGrowth / 1048576:F2} GiB, bare loop {bareGrowth / 1048576:F2} GiB, trainer / bare {trainerGrowth / bareGrowth:F3}"));
        if (outFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
            File.WriteAllText(outFile, JsonSerializer.Serialize(new { settings = passOn, repeats, children, trainerMedianKib = trainer, bareMedianKib = bare, ratio, trainerGrowthKib = trainerGrowth, bareGrowthKib = bareGrowth },
                new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {outFile}");
        }
        return 0;
    }

    private static Child RunChild(string tool, string path, int repeat, List<string> passOn)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { tool, "overhead", "--path", path }.Concat(passOn))
            start.ArgumentList.Add(arg);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child benchmark process.");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"overhead --path {path} exited with {process.ExitCode}: {error.Result}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        long kib = Kib(lines, "peak-rss-kib") ?? throw new InvalidOperationException($"overhead --path {path} printed no peak-rss-kib line:\n{output}");
        if (kib < 0)
            throw new InvalidOperationException("This system has no /proc/self/status: peak memory cannot be read.");
        long dataKib = Kib(lines, "data-peak-rss-kib") ?? -1;
        long startKib = Kib(lines, "start-rss-kib") ?? -1;
        string startParts = lines.LastOrDefault(l => l.StartsWith("start-rss-parts ", StringComparison.Ordinal))?["start-rss-parts ".Length..] ?? "parts not reported";
        bool fromTraining = lines.Any(l => l.StartsWith("peak-rss-from training", StringComparison.Ordinal));
        return new Child(path, repeat, kib, clock.Elapsed.TotalSeconds, lines.LastOrDefault(l => l.StartsWith("path ", StringComparison.Ordinal)) ?? "", dataKib, fromTraining, startKib, startParts);
    }

    /// <summary>The value of the child's last "<paramref name="key"/> N" line, in KiB; null when it printed none.</summary>
    private static long? Kib(string[] lines, string key)
    {
        var line = lines.LastOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[(key.Length + 1)..], CultureInfo.InvariantCulture);
    }
}

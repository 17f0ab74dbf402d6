using System.Diagnostics;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>Measures SynthFace generation speed: images per second per core, median of runs.</summary>
public static class SynthFaceBenchmark
{
    /// <summary>
    /// Renders <paramref name="imagesPerRun"/> images (drawn factors, identity models built as part of the cost,
    /// <paramref name="imagesPerIdentity"/> images each) <paramref name="runs"/> times after one warm-up run, each run
    /// on fresh identities, and returns the median. With <paramref name="threads"/> above 1 the images are split
    /// across threads and the rate is divided by the thread count.
    /// </summary>
    public static SynthFaceSpeed Measure(SynthFaceOptions? options = null, int imagesPerRun = 400, int runs = 5, int imagesPerIdentity = 20, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerRun, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerIdentity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var o = (options ?? new SynthFaceOptions()).Clone();
        int identitiesPerRun = (imagesPerRun + imagesPerIdentity - 1) / imagesPerIdentity;
        var rates = new List<double>();
        var cpuRates = new List<double>();
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int r = -1; r < runs; r++)
        {
            var generator = new SynthFaceGenerator(o);
            int first = (r + 1) * identitiesPerRun;
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
            Parallel.For(0, threads, parallel, t =>
            {
                var lm = new float[10];
                for (int k = t; k < imagesPerRun; k += threads)
                {
                    int identity = first + k / imagesPerIdentity, sample = k % imagesPerIdentity;
                    generator.RenderRgb(identity, generator.DrawFactors(identity, sample), lm);
                }
            });
            double seconds = watch.Elapsed.TotalSeconds;
            process.Refresh();
            double cpuSeconds = (process.TotalProcessorTime - cpuStart).TotalSeconds;
            if (r >= 0)
            {
                rates.Add(imagesPerRun / seconds / threads);
                cpuRates.Add(imagesPerRun / Math.Max(cpuSeconds, 1e-6));
            }
        }
        return new SynthFaceSpeed(Median(rates), rates, threads, o.ImageSize, imagesPerRun, Median(cpuRates), cpuRates);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

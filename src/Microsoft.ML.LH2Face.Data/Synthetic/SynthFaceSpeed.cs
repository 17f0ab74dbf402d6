namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>A generation speed measurement (see <see cref="SynthFaceBenchmark.Measure"/>).</summary>
/// <param name="ImagesPerSecondPerCore">Median over runs of images per wall-clock second divided by threads.</param>
/// <param name="Runs">Images per second per core of each run (wall clock).</param>
/// <param name="Threads">Threads used.</param>
/// <param name="ImageSize">Side of the images.</param>
/// <param name="ImagesPerRun">Images rendered per run.</param>
/// <param name="ImagesPerCpuSecond">
/// Median over runs of images per second of this process's CPU time (every thread, GC and JIT included):
/// the per-core rate that other processes on a busy machine do not lower.
/// </param>
/// <param name="CpuRuns">Images per CPU second of each run.</param>
public sealed record SynthFaceSpeed(double ImagesPerSecondPerCore, IReadOnlyList<double> Runs, int Threads, int ImageSize, int ImagesPerRun,
    double ImagesPerCpuSecond, IReadOnlyList<double> CpuRuns);

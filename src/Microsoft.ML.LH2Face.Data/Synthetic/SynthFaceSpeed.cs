namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>A generation speed measurement (see <see cref="SynthFaceBenchmark.Measure"/>).</summary>
/// <param name="ImagesPerSecondPerCore">Median over runs of images per second divided by threads.</param>
/// <param name="Runs">Images per second per core of each run.</param>
/// <param name="Threads">Threads used.</param>
/// <param name="ImageSize">Side of the images.</param>
/// <param name="ImagesPerRun">Images rendered per run.</param>
public sealed record SynthFaceSpeed(double ImagesPerSecondPerCore, IReadOnlyList<double> Runs, int Threads, int ImageSize, int ImagesPerRun);

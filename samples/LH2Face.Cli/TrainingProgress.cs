using System.Globalization;
using Microsoft.ML.LH2Face;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary>
/// Moves a Spectre progress task from <see cref="LH2FaceTrainer.Options.Progress"/>. The trainer reports
/// on its training thread; <see cref="ProgressTask"/> is thread-safe, so this updates it directly
/// (unlike <see cref="Progress{T}"/>, which would post to the thread pool and could reorder reports).
/// </summary>
internal sealed class TrainingProgress(ProgressTask task, int epochs) : IProgress<LH2FaceProgress>
{
    public LH2FaceProgress? Last { get; private set; }

    public void Report(LH2FaceProgress value)
    {
        Last = value;
        if (task.IsIndeterminate)
            task.IsIndeterminate = false;
        task.MaxValue = value.TotalSteps;
        task.Value = value.Step;
        task.Description = Format(value, epochs);
    }

    public static string Format(LH2FaceProgress p, int epochs)
        => string.Create(CultureInfo.InvariantCulture,
            $"epoch {p.Epoch + 1}/{epochs}  step {p.Step}/{p.TotalSteps}  loss {p.Loss:F3}  {p.ImagesPerSecond:F0} img/s  kappa {p.MeanKappa:F1}");
}

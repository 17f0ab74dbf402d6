namespace Microsoft.ML.LH2Face;

/// <summary>Training progress after one optimiser step.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="Step">Global one-based step count.</param>
/// <param name="TotalSteps">Steps planned for the whole run.</param>
/// <param name="Loss">Total loss of the step.</param>
/// <param name="LossTerms">Each term of the loss (cross-entropy, regularisers, ...).</param>
/// <param name="LearningRate">Learning rate used for the step.</param>
/// <param name="ImagesPerSecond">Training throughput over the last step.</param>
/// <param name="MeanKappa">Mean feature norm of the batch.</param>
/// <param name="KappaStd">Standard deviation of the feature norm over the batch.</param>
/// <param name="ValidationAccuracy">Set on the last step of an epoch when a validation set is given.</param>
public sealed record LH2FaceProgress(
    int Epoch,
    long Step,
    long TotalSteps,
    float Loss,
    IReadOnlyDictionary<string, float> LossTerms,
    double LearningRate,
    double ImagesPerSecond,
    float MeanKappa,
    float KappaStd,
    double? ValidationAccuracy);

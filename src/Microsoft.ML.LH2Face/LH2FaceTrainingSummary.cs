namespace Microsoft.ML.LH2Face;

/// <summary>What happened during training.</summary>
/// <param name="Steps">Optimiser steps taken (including those of a run resumed from).</param>
/// <param name="PlannedSteps">Steps the schedule was planned for (Epochs x steps per epoch).</param>
/// <param name="EpochLosses">Mean training loss of each completed epoch.</param>
/// <param name="ValidationAccuracies">Validation verification accuracy after each epoch (empty without a validation set).</param>
/// <param name="BestValidationAccuracy">Best validation accuracy, whose weights the model keeps.</param>
/// <param name="BestEpoch">Zero-based epoch of the best validation accuracy.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
/// <param name="Duration">Wall-clock training time of this run.</param>
public sealed record LH2FaceTrainingSummary(
    long Steps,
    long PlannedSteps,
    IReadOnlyList<float> EpochLosses,
    IReadOnlyList<double> ValidationAccuracies,
    double? BestValidationAccuracy,
    int? BestEpoch,
    bool StoppedEarly,
    TimeSpan Duration);

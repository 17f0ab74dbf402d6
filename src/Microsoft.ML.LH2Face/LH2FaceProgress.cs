namespace Microsoft.ML.LH2Face;

/// <summary>Training progress after one optimiser step.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="Step">Global one-based step count.</param>
/// <param name="TotalSteps">Steps planned for the whole run.</param>
/// <param name="Loss">Total loss of the step.</param>
/// <param name="LossTerms">
/// Each term of the loss as it enters <paramref name="Loss"/> (weights applied; they sum to it): cross_entropy (L_vMF for the
/// LH2Face head), norm_regulariser or vmf_nll (LH2Face norm control), magface_g, proxy_pps, proxy_pns, proxy_pp, as configured.
/// </param>
/// <param name="LearningRate">Learning rate used for the step.</param>
/// <param name="ImagesPerSecond">Training throughput over the last step.</param>
/// <param name="MeanKappa">Mean feature norm of the batch.</param>
/// <param name="KappaStd">Standard deviation of the feature norm over the batch.</param>
/// <param name="ValidationAccuracy">Set on the last step of an epoch when a validation set is given.</param>
/// <param name="MeanMargin">Mean over the batch of the margin the head applied at the target, in logit units (scale x cos minus the target logit); null for the plain softmax.</param>
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
    double? ValidationAccuracy,
    float? MeanMargin = null);

using static Microsoft.ML.LH2Face.OptionChecks;
using O = Microsoft.ML.LH2Face.LH2FaceTrainer.Options;

namespace Microsoft.ML.LH2Face.Settings;

/// <summary>How long and how fast: epochs, batch, the optimiser and its rate, momentum and decay, warm-up, the schedule, gradient clipping and a step cap.</summary>
internal sealed record ScheduleSettings(
    int Epochs, int BatchSize, LH2FaceOptimizer Optimizer, float LearningRate, float Momentum, float WeightDecay, float WarmupEpochs,
    LH2FaceSchedule Kind, int[]? StepMilestones, float StepGamma, float GradientClipNorm, int MaxSteps)
{
    public void Check()
    {
        Require(Epochs >= 1, nameof(O.Epochs), $"is {Epochs}; use at least 1");
        Require(BatchSize >= 2, nameof(O.BatchSize), $"is {BatchSize}; batch norm needs at least 2");
        Require(LearningRate > 0 && float.IsFinite(LearningRate), nameof(O.LearningRate), $"is {LearningRate}; use a positive rate");
        Require(WeightDecay >= 0, nameof(O.WeightDecay), $"is {WeightDecay}; use 0 or more");
        Require(WarmupEpochs >= 0 && WarmupEpochs <= Epochs, nameof(O.WarmupEpochs), $"is {WarmupEpochs}; use 0..Epochs");
        Require(GradientClipNorm >= 0, nameof(O.GradientClipNorm), $"is {GradientClipNorm}; use 0 (off) or a positive norm");
        Require(MaxSteps >= 0, nameof(O.MaxSteps), $"is {MaxSteps}; use 0 (all epochs) or a positive count");
        Require(StepMilestones is not null, nameof(O.StepMilestones), "must not be null");
    }
}

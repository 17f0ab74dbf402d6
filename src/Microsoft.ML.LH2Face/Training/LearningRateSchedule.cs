using Microsoft.ML.LH2Face.Settings;
namespace Microsoft.ML.LH2Face.Training;

/// <summary>Learning rate at each step: linear warm-up, then cosine decay or step decay at milestone epochs.</summary>
internal sealed class LearningRateSchedule
{
    private readonly double peak;
    private readonly long warmupSteps;
    private readonly long totalSteps;
    private readonly long stepsPerEpoch;
    private readonly LH2FaceSchedule kind;
    private readonly int[] milestones;
    private readonly double gamma;

    public LearningRateSchedule(ScheduleSettings schedule, long stepsPerEpoch)
    {
        peak = schedule.LearningRate;
        this.stepsPerEpoch = stepsPerEpoch;
        totalSteps = stepsPerEpoch * schedule.Epochs;
        warmupSteps = (long)Math.Round(schedule.WarmupEpochs * stepsPerEpoch);
        kind = schedule.Kind;
        milestones = schedule.StepMilestones ?? [];
        gamma = schedule.StepGamma;
    }

    /// <summary>Rate for zero-based step <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (step < warmupSteps)
            return peak * (step + 1) / warmupSteps;
        switch (kind)
        {
            case LH2FaceSchedule.Cosine:
                double span = Math.Max(1, totalSteps - warmupSteps);
                double progress = Math.Min(1.0, (step - warmupSteps) / span);
                return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
            case LH2FaceSchedule.Step:
                long epoch = step / stepsPerEpoch;
                int passed = milestones.Count(m => epoch >= m);
                return peak * Math.Pow(gamma, passed);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown schedule.");
        }
    }
}

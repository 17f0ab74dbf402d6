using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class LearningRateScheduleTests
{
    [TestMethod]
    public void Cosine_WithWarmup_RisesLinearlyThenFollowsHalfCosine()
    {
        var schedule = new LearningRateSchedule((new LH2FaceTrainer.Options { LearningRate = 0.1f, Epochs = 10, WarmupEpochs = 1 }).Settings().Schedule, stepsPerEpoch: 10);
        Assert.AreEqual(0.01, schedule.At(0), 1e-9);
        Assert.AreEqual(0.1, schedule.At(9), 1e-7);
        Assert.AreEqual(0.1, schedule.At(10), 1e-7);
        Assert.AreEqual(0.05, schedule.At(55), 1e-7);
        Assert.AreEqual(0.1 * 0.5 * (1 + Math.Cos(Math.PI * 80 / 90)), schedule.At(90), 1e-7);
    }

    [TestMethod]
    public void Step_AtMilestones_MultipliesByGamma()
    {
        var schedule = new LearningRateSchedule((new LH2FaceTrainer.Options
        {
            LearningRate = 0.1f, Epochs = 20, Schedule = LH2FaceSchedule.Step, StepMilestones = new[] { 10, 16 }, StepGamma = 0.1f,
        }).Settings().Schedule, stepsPerEpoch: 5);
        Assert.AreEqual(0.1, schedule.At(49), 1e-7);
        Assert.AreEqual(0.01, schedule.At(50), 1e-7);
        Assert.AreEqual(0.001, schedule.At(80), 1e-8);
    }
}

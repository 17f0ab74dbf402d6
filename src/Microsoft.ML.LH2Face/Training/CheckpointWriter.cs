using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// When and what a run checkpoints (weights, optimiser states, the best epoch's weights, the tracker's state) and how a
/// run resumes from one. The files and their atomic layout are <see cref="CheckpointStore"/>'s.
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly RunSettings options;
    private readonly NetworkSettings network;
    private readonly int classCount;
    private readonly string fingerprint;

    public CheckpointWriter(RunSettings run, NetworkSettings network, int classCount, string fingerprint)
    {
        options = run;
        this.network = network;
        this.classCount = classCount;
        this.fingerprint = fingerprint;
    }

    /// <summary>A new run's state: step 0, nothing recorded.</summary>
    public CheckpointState Start => new() { Fingerprint = fingerprint, Seed = options.Seed };

    /// <summary>Whether a checkpoint is written after <paramref name="step"/>: every CheckpointEveryNSteps, at the last step and when stopping early.</summary>
    public bool IsDue(long step, long lastStep, bool stoppingEarly)
        => options.CheckpointDirectory is not null &&
           ((options.CheckpointEveryNSteps > 0 && step % options.CheckpointEveryNSteps == 0) || step == lastStep || stoppingEarly);

    /// <summary>Writes the checkpoint of <paramref name="step"/>: the tracker's state, the weights, the optimisers and the best epoch's weights.</summary>
    public void Write(long step, EpochTracker tracker, FaceNetwork network, OptimizerSet optimizers)
    {
        var best = tracker.Best;
        CheckpointStore.Save(options.CheckpointDirectory!, tracker.ToState(step, fingerprint, options.Seed), dir =>
        {
            network.save(Path.Combine(dir, CheckpointStore.WeightsFile));
            optimizers.Save(dir);
            if (best is not null)
            {
                using var bestNet = new FaceNetwork(this.network, classCount);
                using (no_grad())
                    bestNet.load_state_dict(best.ToDictionary(p => p.Key, p => p.Value));
                bestNet.save(Path.Combine(dir, CheckpointStore.BestWeightsFile));
            }
        });
    }

    /// <summary>
    /// Loads Options.ResumeFrom into <paramref name="network"/> and <paramref name="optimizers"/>; returns its state and,
    /// when it kept a best epoch, a copy of those weights (the caller owns it), and the checkpoint directory it read.
    /// A checkpoint of another run is refused.
    /// </summary>
    public (CheckpointState State, Dictionary<string, Tensor>? Best, string Directory) Resume(FaceNetwork network, OptimizerSet optimizers)
    {
        var dir = CheckpointStore.Resolve(options.ResumeFrom!);
        var state = CheckpointStore.ReadState(dir);
        if (state.Fingerprint != fingerprint)
            throw new InvalidOperationException(
                $"Options.ResumeFrom = '{options.ResumeFrom}' was written by a different run ({state.Fingerprint}); this run is {fingerprint}. Resume with the same data, backbone, sizes, head, batch size, epochs, seed and precision.");
        CheckpointStore.ReadFile(Path.Combine(dir, CheckpointStore.WeightsFile), file => network.load(file));
        optimizers.Load(dir);
        var bestFile = Path.Combine(dir, CheckpointStore.BestWeightsFile);
        if (!File.Exists(bestFile))
            return (state, null, dir);
        using var bestNet = new FaceNetwork(this.network, classCount);
        CheckpointStore.ReadFile(bestFile, file => bestNet.load(file));
        return (state, EpochTracker.Snapshot(bestNet), dir);
    }

}

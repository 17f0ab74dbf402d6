using Microsoft.ML.LH2Face.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// The bookkeeping of a run between steps: the running loss and term sums of the current epoch, each finished epoch's
/// mean loss and validation accuracy, the best epoch with a copy of its weights, and the early-stopping count. It is
/// what a checkpoint saves besides weights and optimisers, and what the training summary reports. Owns the copy of the
/// best weights.
/// </summary>
internal sealed class EpochTracker : IDisposable
{
    private readonly List<float> epochLosses;
    private readonly List<double> accuracies;
    private double bestAccuracy;
    private int bestEpoch;
    private double lossSum;
    private int lossCount;
    private EpochTermMeans terms;
    private Dictionary<string, Tensor>? best;

    /// <summary>Continues from <paramref name="state"/> (a new run's is empty) with <paramref name="best"/>, whose tensors it then owns.</summary>
    public EpochTracker(CheckpointState state, Dictionary<string, Tensor>? best)
    {
        epochLosses = new List<float>(state.EpochLosses);
        accuracies = new List<double>(state.ValidationAccuracies);
        bestAccuracy = state.BestValidationAccuracy;
        bestEpoch = state.BestEpoch;
        EpochsWithoutImprovement = state.EpochsWithoutImprovement;
        // A resumed run continues the running sums of the epoch it stopped in, so its log equals the uninterrupted run's.
        lossSum = state.EpochLossSum;
        lossCount = state.EpochLossCount;
        terms = new EpochTermMeans(state.EpochTerms);
        this.best = best;
    }

    /// <summary>Epochs since the validation accuracy last improved.</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>The best epoch's weights (CPU copies), null without a validation set.</summary>
    public IReadOnlyDictionary<string, Tensor>? Best => best;

    public void AddStep(StepResult step)
    {
        lossSum += step.Loss;
        lossCount++;
        terms.Add(step.Terms, step.MeanKappa, step.StdKappa, step.MeanMargin);
    }

    /// <summary>
    /// Closes epoch <paramref name="epoch"/> (0-based): records its mean loss and, with a validation set, its accuracy,
    /// keeping a copy of <paramref name="network"/>'s weights when that is the best so far. Returns the log line.
    /// </summary>
    public string EndEpoch(int epoch, double? accuracy, FaceNetwork network)
    {
        epochLosses.Add((float)(lossSum / lossCount));
        lossSum = 0;
        lossCount = 0;
        string termLine = terms.Describe();
        terms = new EpochTermMeans();
        if (accuracy is not double value)
            return $"Epoch {epoch + 1}: loss {epochLosses[^1]:F4}; {termLine}.";
        accuracies.Add(value);
        if (double.IsNaN(bestAccuracy) || value > bestAccuracy)
        {
            bestAccuracy = value;
            bestEpoch = epoch;
            EpochsWithoutImprovement = 0;
            DisposeAll(best);
            best = Snapshot(network);
        }
        else
        {
            EpochsWithoutImprovement++;
        }
        return $"Epoch {epoch + 1}: loss {epochLosses[^1]:F4}, validation accuracy {value:P2} (best {bestAccuracy:P2} at epoch {bestEpoch + 1}); {termLine}.";
    }

    /// <summary>Whether <paramref name="patience"/> epochs (0 = never) have passed without improvement.</summary>
    public bool EarlyStopDue(int patience) => patience > 0 && EpochsWithoutImprovement >= patience;

    /// <summary>The state to save in a checkpoint at <paramref name="step"/>.</summary>
    public CheckpointState ToState(long step, string fingerprint, int seed) => new()
    {
        Step = step, Fingerprint = fingerprint, Seed = seed,
        BestValidationAccuracy = bestAccuracy, BestEpoch = bestEpoch, EpochsWithoutImprovement = EpochsWithoutImprovement,
        EpochLosses = new List<float>(epochLosses), ValidationAccuracies = new List<double>(accuracies),
        EpochLossSum = lossSum, EpochLossCount = lossCount, EpochTerms = terms.Sums,
    };

    /// <summary>Loads the best epoch's weights into <paramref name="network"/> (nothing without a validation set) and releases the copy.</summary>
    public void RestoreBest(FaceNetwork network)
    {
        if (best is null)
            return;
        using (no_grad())
            network.load_state_dict(best);
        DisposeAll(best);
        best = null;
    }

    public LH2FaceTrainingSummary Summary(long steps, long plannedSteps, bool stoppedEarly, TimeSpan duration)
        => new(steps, plannedSteps, epochLosses.ToArray(), accuracies.ToArray(),
            double.IsNaN(bestAccuracy) ? null : bestAccuracy, bestEpoch >= 0 ? bestEpoch : null, stoppedEarly, duration);

    /// <summary>CPU copies of every weight and buffer of <paramref name="network"/>.</summary>
    public static Dictionary<string, Tensor> Snapshot(FaceNetwork network)
    {
        // The scope releases the intermediate handles (detach, cpu); the clones move out.
        using var scope = NewDisposeScope();
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, value) in network.state_dict())
            copy[name] = value.detach().cpu().clone().MoveToOuterDisposeScope();
        return copy;
    }

    public void Dispose()
    {
        DisposeAll(best);
        best = null;
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
            return;
        foreach (var t in tensors.Values)
            t.Dispose();
    }
}

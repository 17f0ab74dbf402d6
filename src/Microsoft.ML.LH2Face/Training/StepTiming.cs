using System.Diagnostics;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// Where one training step's wall time went, in milliseconds (the overhead benchmark, issue 15): each bucket is the
/// sum of the laps of <see cref="StepClock"/> spent in it, so the buckets never add up to more than
/// <see cref="Total"/>. On CPU libtorch computes synchronously, so a bucket holds the computation it launches; on a GPU
/// the work is queued and lands in whichever bucket next waits for it (the first .item() read: Bookkeeping).
/// </summary>
/// <param name="Step">One-based step, as the progress reports count.</param>
/// <param name="Loss">The step's total loss, so a timed run can be checked against another.</param>
/// <param name="LoaderWait">Waiting in BatchLoader.Next for the next batch (its background thread fills a queue of 3).</param>
/// <param name="PixelCopy">Copying the batch's pixels and labels into tensors and handing the buffer back to the loader.</param>
/// <param name="Copies">The kappa-ranking degraded copies: KappaRanking.Degrade and appending them to the batch (0 without them).</param>
/// <param name="Forward">Network, recognition loss and the weighted extra terms, up to the total loss tensor.</param>
/// <param name="Bookkeeping">
/// Reading the loss, the terms, kappa's mean and spread and the margin back to .NET (.item(), the dictionary), the epoch
/// tracker, the epoch-end log (and validation, when there is a validation set), the checkpoint test and the progress report.
/// </param>
/// <param name="Backward">loss.backward().</param>
/// <param name="Optimizer">zero_grad, gradient clipping and the optimiser step.</param>
/// <param name="Total">Wall time from asking for the batch to the end of the step (checkpoint and progress report included).</param>
internal sealed record StepTiming(long Step, float Loss, double LoaderWait, double PixelCopy, double Copies, double Forward, double Bookkeeping, double Backward, double Optimizer, double Total)
{
    /// <summary>
    /// Everything else: the per-step reseed, setting the learning rate, the no-GC region around the step (its start may
    /// collect) and freeing the step's tensors when its dispose scope closes.
    /// </summary>
    public double Other => Total - (LoaderWait + PixelCopy + Copies + Forward + Bookkeeping + Backward + Optimizer);
}

/// <summary>The buckets of <see cref="StepTiming"/> a lap of <see cref="StepClock"/> goes to.</summary>
internal enum StepPhase
{
    LoaderWait,
    PixelCopy,
    Copies,
    Forward,
    Bookkeeping,
    Backward,
    Optimizer,
    Other,
}

/// <summary>
/// Times the phases of one training step with <see cref="Stopwatch.GetTimestamp"/> (tens of nanoseconds a lap): each
/// <see cref="Lap"/> charges the time since the previous one to a phase. TrainingSession makes one only when
/// <see cref="TrainingSession.StepTimings"/> is set; it reads nothing from the tensors and changes no computation.
/// </summary>
internal sealed class StepClock
{
    private readonly long[] ticks = new long[Enum.GetValues<StepPhase>().Length];
    private long start;
    private long last;

    /// <summary>Starts a step: clears every bucket.</summary>
    public void Start()
    {
        Array.Clear(ticks);
        start = last = Stopwatch.GetTimestamp();
    }

    /// <summary>Charges the time since the previous lap (or <see cref="Start"/>) to <paramref name="phase"/>.</summary>
    public void Lap(StepPhase phase)
    {
        long now = Stopwatch.GetTimestamp();
        ticks[(int)phase] += now - last;
        last = now;
    }

    /// <summary>The step's record: the buckets so far, and the wall time since <see cref="Start"/>.</summary>
    public StepTiming Finish(long step, float loss)
    {
        long end = Stopwatch.GetTimestamp();
        return new StepTiming(step, loss, Ms(StepPhase.LoaderWait), Ms(StepPhase.PixelCopy), Ms(StepPhase.Copies), Ms(StepPhase.Forward), Ms(StepPhase.Bookkeeping),
            Ms(StepPhase.Backward), Ms(StepPhase.Optimizer), ToMs(end - start));
    }

    private double Ms(StepPhase phase) => ToMs(ticks[(int)phase]);

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

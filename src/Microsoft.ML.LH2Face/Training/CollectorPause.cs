using System.Runtime;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// Keeps the .NET garbage collector from running while a training step is in TorchSharp native code.
/// TorchSharp 0.107 passes a temporary <c>Scalar</c>'s native handle into a native call without keeping
/// the managed object alive (no GC.KeepAlive), so a collection started by another thread during the call
/// can finalize the Scalar and free what the native code is reading. Measured here: Fit died in
/// BatchNorm.forward with "For integral input tensors, argument alpha must not be a floating point
/// number" (the integer 1 of num_batches_tracked.add_(1) read back as a reused float) and once in
/// "pixels - 127.5" with libtorch's Scalar::toDouble assertion; a float tensor would be computed with a
/// wrong value in silence. A no-GC region per step (which collects once, at its start, on this thread, in
/// managed code) closes that window; the background batch producer reuses its buffers, so the region's
/// budget is not spent.
/// </summary>
internal sealed class CollectorPause : IDisposable
{
    /// <summary>Managed bytes the step may allocate (all threads) before the runtime ends the region with a collection.</summary>
    public const long Budget = 64L << 20;

    private readonly bool started;

    private CollectorPause(bool started) => this.started = started;

    /// <summary>Steps whose region ended early because the budget ran out (a collection then ran mid-step).</summary>
    public static int BrokenRegions => brokenRegions;

    private static int brokenRegions;

    /// <summary>Starts a no-GC region, unless one is already active in the process (then this pause does nothing).</summary>
    public static CollectorPause Start()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            return new CollectorPause(false);
        try
        {
            return new CollectorPause(GC.TryStartNoGCRegion(Budget));
        }
        catch (InvalidOperationException)
        {
            // Another thread started a region between the check and the call.
            return new CollectorPause(false);
        }
    }

    public void Dispose()
    {
        if (!started)
            return;
        if (GCSettings.LatencyMode != GCLatencyMode.NoGCRegion)
        {
            Interlocked.Increment(ref brokenRegions);
            return;
        }
        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            Interlocked.Increment(ref brokenRegions);
        }
    }
}

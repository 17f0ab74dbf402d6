using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Backbones;

/// <summary>Training-mode passes that leave a module's running batch-norm averages and step counters as they were.</summary>
internal static class BatchNormStatistics
{
    /// <summary>
    /// Runs <paramref name="pass"/> with every batch norm of <paramref name="module"/> at momentum 0, then restores the
    /// momentum and copies the step counters back. Momentum 0 keeps the running mean and variance: they cannot be
    /// restored by a copy afterwards, because batch norm saves them for its backward pass and an in-place write would
    /// void the graph; the step counter is not saved for backward, so it is copied back.
    /// </summary>
    public static T Held<T>(nn.Module module, Func<T> pass)
    {
        var saved = module.modules().OfType<TorchSharp.Modules.NormBase>()
            .Select(n => (Norm: n, Momentum: n.momentum, Count: n.num_batches_tracked?.clone())).ToList();
        try
        {
            foreach (var (norm, _, _) in saved)
                norm.momentum = 0.0;
            return pass();
        }
        finally
        {
            using var noGrad = no_grad();
            foreach (var (norm, momentum, count) in saved)
            {
                norm.momentum = momentum;
                if (count is not null)
                {
                    norm.num_batches_tracked!.copy_(count);
                    count.Dispose();
                }
            }
        }
    }
}

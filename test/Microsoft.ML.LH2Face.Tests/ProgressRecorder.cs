namespace Microsoft.ML.LH2Face.Tests;

/// <summary>
/// Records every progress report synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool),
/// and passes each to <see cref="OnReport"/> when set (to cancel at a step, say).
/// </summary>
internal sealed class ProgressRecorder(Action<LH2FaceProgress>? onReport = null) : IProgress<LH2FaceProgress>
{
    public List<LH2FaceProgress> Reports { get; } = new();

    public Action<LH2FaceProgress>? OnReport { get; set; } = onReport;

    public void Report(LH2FaceProgress value)
    {
        Reports.Add(value);
        OnReport?.Invoke(value);
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>Genuine and impostor score counts over equal-width bins (for plots and reports).</summary>
/// <param name="Minimum">Lower edge of the first bin.</param>
/// <param name="BinWidth">Width of each bin.</param>
/// <param name="Genuine">Genuine pair counts per bin.</param>
/// <param name="Impostor">Impostor pair counts per bin.</param>
public sealed record ScoreHistogram(double Minimum, double BinWidth, IReadOnlyList<long> Genuine, IReadOnlyList<long> Impostor)
{
    /// <summary>Counts scores into <paramref name="bins"/> bins spanning their range.</summary>
    /// <param name="scores">Scores.</param>
    /// <param name="isGenuine">Labels, one per score.</param>
    /// <param name="bins">Number of bins (at least 1).</param>
    public static ScoreHistogram Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isGenuine, int bins = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (scores.Length != isGenuine.Length)
            throw new ArgumentException($"scores has {scores.Length} values but isGenuine has {isGenuine.Length}: pass one label per score.", nameof(isGenuine));
        var genuine = new long[bins];
        var impostor = new long[bins];
        if (scores.Length == 0)
            return new ScoreHistogram(0, 1, genuine, impostor);
        float min = System.Numerics.Tensors.TensorPrimitives.Min(scores);
        float max = System.Numerics.Tensors.TensorPrimitives.Max(scores);
        double width = max > min ? ((double)max - min) / bins : 1.0;
        for (int i = 0; i < scores.Length; i++)
        {
            int b = Math.Clamp((int)((scores[i] - (double)min) / width), 0, bins - 1);
            if (isGenuine[i]) genuine[b]++; else impostor[b]++;
        }
        return new ScoreHistogram(min, width, genuine, impostor);
    }
}

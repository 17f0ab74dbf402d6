namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>Verification metrics per stratum label (e.g. "hard-HQ", "easy-HQ", "LQ").</summary>
public static class StratifiedVerification
{
    /// <summary>
    /// Groups pairs by stratum and evaluates each group (ordinal order of the labels). Every stratum
    /// must hold genuine and impostor pairs, or an <see cref="ArgumentException"/> names it.
    /// </summary>
    /// <param name="scores">Scores of all pairs.</param>
    /// <param name="isGenuine">Labels of all pairs.</param>
    /// <param name="strata">Stratum label of each pair.</param>
    /// <param name="targetFars">FARs to read TAR at; <see cref="VerificationMetrics.StandardFars"/> when null.</param>
    public static IReadOnlyDictionary<string, VerificationResult> Evaluate(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isGenuine, IReadOnlyList<string> strata, IReadOnlyList<double>? targetFars = null)
    {
        ArgumentNullException.ThrowIfNull(strata);
        if (strata.Count != scores.Length || isGenuine.Length != scores.Length)
            throw new ArgumentException($"scores, isGenuine and strata must have one length (got {scores.Length}, {isGenuine.Length}, {strata.Count}).", nameof(strata));
        var groups = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < strata.Count; i++)
        {
            string label = strata[i] ?? throw new ArgumentException($"strata[{i}] is null: give every pair a stratum label.", nameof(strata));
            if (!groups.TryGetValue(label, out var list))
                groups[label] = list = new List<int>();
            list.Add(i);
        }
        var result = new SortedDictionary<string, VerificationResult>(StringComparer.Ordinal);
        foreach (var (label, rows) in groups)
        {
            var s = new float[rows.Count];
            var y = new bool[rows.Count];
            for (int k = 0; k < rows.Count; k++)
            {
                s[k] = scores[rows[k]];
                y[k] = isGenuine[rows[k]];
            }
            PairChecks.Check(s, y, out _, out _, label);
            result[label] = VerificationMetrics.Evaluate(s, y, targetFars);
        }
        return result;
    }
}

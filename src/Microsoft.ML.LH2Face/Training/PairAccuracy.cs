namespace Microsoft.ML.LH2Face.Training;

/// <summary>Verification accuracy over all pairs of a labelled embedding set.</summary>
internal static class PairAccuracy
{
    /// <summary>
    /// Cosine scores of every pair i &lt; j; returns the best, over thresholds, of (TPR + TNR) / 2, so the
    /// many more impostor pairs do not swamp the genuine ones. 0.5 is chance.
    /// </summary>
    public static double BestBalancedAccuracy(float[][] embeddings, ReadOnlySpan<int> labels)
    {
        int n = embeddings.Length;
        var scores = new List<(float Score, bool Same)>(n * (n - 1) / 2);
        long genuine = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                bool same = labels[i] == labels[j];
                genuine += same ? 1 : 0;
                scores.Add((System.Numerics.Tensors.TensorPrimitives.Dot(embeddings[i], embeddings[j]), same));
            }
        }
        long impostor = scores.Count - genuine;
        if (genuine == 0 || impostor == 0)
            return double.NaN;
        scores.Sort((a, b) => b.Score.CompareTo(a.Score));
        // Threshold just below scores[k]: pairs 0..k accepted.
        double best = 0.5;
        long acceptedGenuine = 0, acceptedImpostor = 0;
        for (int k = 0; k < scores.Count; k++)
        {
            if (scores[k].Same) acceptedGenuine++; else acceptedImpostor++;
            if (k + 1 < scores.Count && scores[k + 1].Score == scores[k].Score)
                continue;
            double tpr = (double)acceptedGenuine / genuine;
            double tnr = 1 - (double)acceptedImpostor / impostor;
            best = Math.Max(best, (tpr + tnr) / 2);
        }
        return best;
    }
}

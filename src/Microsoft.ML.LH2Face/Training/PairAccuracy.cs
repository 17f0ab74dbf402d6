using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>Verification accuracy over all pairs of a labelled embedding set.</summary>
internal static class PairAccuracy
{
    /// <summary>
    /// Cosine scores of every pair i &lt; j; returns the best, over thresholds, of (TPR + TNR) / 2, so the
    /// many more impostor pairs do not swamp the genuine ones. 0.5 is chance; NaN when one kind of pair is missing.
    /// The threshold sweep is the evaluation's own (<see cref="RocCurve"/>, every distinct score kept).
    /// </summary>
    public static double BestBalancedAccuracy(float[][] embeddings, ReadOnlySpan<int> labels)
    {
        int n = embeddings.Length;
        var scores = new float[n * (n - 1) / 2];
        var same = new bool[scores.Length];
        long genuine = 0;
        int p = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++, p++)
            {
                same[p] = labels[i] == labels[j];
                genuine += same[p] ? 1 : 0;
                scores[p] = System.Numerics.Tensors.TensorPrimitives.Dot(embeddings[i], embeddings[j]);
            }
        }
        if (genuine == 0 || genuine == scores.Length)
            return double.NaN;
        var roc = RocCurve.Compute(scores, same, dropIntermediate: false);
        double best = 0.5;
        for (int k = 0; k < roc.Count; k++)
        {
            double tpr = roc.TrueAcceptRate(k);
            double tnr = 1 - roc.FalseAcceptRate(k);
            best = Math.Max(best, (tpr + tnr) / 2);
        }
        return best;
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// A receiver operating characteristic for 1:1 verification, built like scikit-learn's
/// <c>roc_curve</c> (the reference insightface's IJB evaluation uses): one point per distinct score,
/// thresholds in decreasing order, a pair is accepted when its score is at least the threshold, the
/// first point is (0, 0) at threshold +infinity. Equal scores share one point. With
/// <c>dropIntermediate</c> (scikit-learn's default) points whose step repeats the previous step
/// exactly are removed.
/// </summary>
public sealed class RocCurve
{
    private readonly float[] thresholds;
    private readonly long[] falseAccepts;
    private readonly long[] trueAccepts;

    private RocCurve(float[] thresholds, long[] falseAccepts, long[] trueAccepts, long genuineCount, long impostorCount)
    {
        this.thresholds = thresholds;
        this.falseAccepts = falseAccepts;
        this.trueAccepts = trueAccepts;
        GenuineCount = genuineCount;
        ImpostorCount = impostorCount;
    }

    /// <summary>Number of genuine (same identity) pairs.</summary>
    public long GenuineCount { get; }

    /// <summary>Number of impostor (different identity) pairs.</summary>
    public long ImpostorCount { get; }

    /// <summary>Number of points, including the leading (0, 0).</summary>
    public int Count => thresholds.Length;

    /// <summary>Decision thresholds, decreasing; the first is +infinity.</summary>
    public IReadOnlyList<float> Thresholds => thresholds;

    /// <summary>False accept rate (FPR) at point <paramref name="index"/>.</summary>
    /// <param name="index">Point index, 0 .. <see cref="Count"/> - 1.</param>
    public double FalseAcceptRate(int index) => (double)falseAccepts[index] / ImpostorCount;

    /// <summary>True accept rate (TPR) at point <paramref name="index"/>.</summary>
    /// <param name="index">Point index, 0 .. <see cref="Count"/> - 1.</param>
    public double TrueAcceptRate(int index) => (double)trueAccepts[index] / GenuineCount;

    /// <summary>Number of impostor pairs accepted at point <paramref name="index"/>.</summary>
    /// <param name="index">Point index.</param>
    public long FalseAccepts(int index) => falseAccepts[index];

    /// <summary>Number of genuine pairs accepted at point <paramref name="index"/>.</summary>
    /// <param name="index">Point index.</param>
    public long TrueAccepts(int index) => trueAccepts[index];

    /// <summary>Builds the ROC of a set of scored pairs.</summary>
    /// <param name="scores">Similarity scores (higher = more alike); no NaN.</param>
    /// <param name="isGenuine">For each score, whether the pair is of one identity.</param>
    /// <param name="dropIntermediate">Remove collinear intermediate points, as scikit-learn does by default.</param>
    /// <exception cref="ArgumentException">Lengths differ, a score is NaN, or one class is missing
    /// (an ROC needs at least one genuine and one impostor pair).</exception>
    public static RocCurve Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isGenuine, bool dropIntermediate = true)
    {
        PairChecks.Check(scores, isGenuine, out long genuine, out long impostor);
        ulong[] keys = ScoreSort.SortedKeys(scores, isGenuine);

        var th = new List<float>(Math.Min(keys.Length, 1 << 20)) { float.PositiveInfinity };
        var fa = new List<long>(th.Capacity) { 0 };
        var ta = new List<long>(th.Capacity) { 0 };
        long tp = 0, fp = 0;
        int i = keys.Length - 1;
        while (i >= 0)
        {
            ulong scoreBits = keys[i] >> 1;
            while (i >= 0 && keys[i] >> 1 == scoreBits)
            {
                if ((keys[i] & 1ul) != 0) tp++; else fp++;
                i--;
            }
            th.Add(ScoreSort.FromSortableBits((uint)scoreBits));
            fa.Add(fp);
            ta.Add(tp);
        }

        if (dropIntermediate && th.Count > 3)
        {
            // scikit-learn keeps the first and last distinct-threshold points and every point where
            // the second difference of fps or tps is non-zero (index 0 is the added (0, 0) point).
            int w = 1;
            int last = th.Count - 1;
            for (int r = 1; r <= last; r++)
            {
                bool keep = r == 1 || r == last
                    || fa[r + 1] - fa[r] != fa[r] - fa[r - 1]
                    || ta[r + 1] - ta[r] != ta[r] - ta[r - 1];
                if (!keep)
                    continue;
                th[w] = th[r];
                fa[w] = fa[r];
                ta[w] = ta[r];
                w++;
            }
            th.RemoveRange(w, th.Count - w);
            fa.RemoveRange(w, fa.Count - w);
            ta.RemoveRange(w, ta.Count - w);
        }
        return new RocCurve(th.ToArray(), fa.ToArray(), ta.ToArray(), genuine, impostor);
    }

    /// <summary>
    /// The index of the point insightface reads for a target FAR: the point whose FAR is nearest the
    /// target; among equally near points the one with the highest TAR (the last in this order).
    /// </summary>
    /// <param name="targetFar">Target false accept rate.</param>
    public int NearestIndex(double targetFar)
    {
        // FAR is non-decreasing along the curve: find the first point at or above the target.
        long[] f = falseAccepts;
        int lo = 0, hi = f.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (FalseAcceptRate(mid) < targetFar) lo = mid + 1; else hi = mid;
        }
        int above = lo;
        if (above == f.Length)
            return f.Length - 1;
        // The last point with that same FAR has the highest TAR.
        while (above + 1 < f.Length && f[above + 1] == f[above])
            above++;
        if (lo == 0)
            return above;
        int below = lo - 1;
        return Math.Abs(FalseAcceptRate(above) - targetFar) <= Math.Abs(FalseAcceptRate(below) - targetFar) ? above : below;
    }
}

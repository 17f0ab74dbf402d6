using System.Numerics.Tensors;

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// 1:N identification with a gallery and probes, scored by cosine similarity (features are
/// L2-normalised here). The score of an identity is its best gallery entry. The rank of a mated probe
/// is 1 + the number of other identities scoring strictly higher (ties resolve in the probe's favour).
/// Open set (NIST FRVT convention): at threshold t, a non-mated probe is a false positive when its top
/// score exceeds t; a mated probe is a true positive when its identity ranks first and scores above t;
/// t is the (floor(FPIR x #non-mated) + 1)-th highest non-mated top score.
/// </summary>
public static class IdentificationMetrics
{
    /// <summary>FPIR targets reported by default: 1e-3, 1e-2, 1e-1.</summary>
    public static IReadOnlyList<double> StandardFpirs { get; } = new[] { 1e-3, 1e-2, 1e-1 };

    /// <summary>Evaluates probes against a gallery.</summary>
    /// <param name="gallery">Gallery features (one or more per identity).</param>
    /// <param name="galleryLabels">Identity of each gallery feature.</param>
    /// <param name="probes">Probe features.</param>
    /// <param name="probeLabels">Identity of each probe; identities absent from the gallery make non-mated probes.</param>
    /// <param name="targetFpirs">FPIRs to read TPIR at; <see cref="StandardFpirs"/> when null.</param>
    public static IdentificationResult Evaluate(
        IReadOnlyList<float[]> gallery, IReadOnlyList<int> galleryLabels,
        IReadOnlyList<float[]> probes, IReadOnlyList<int> probeLabels,
        IReadOnlyList<double>? targetFpirs = null)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(galleryLabels);
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(probeLabels);
        if (gallery.Count != galleryLabels.Count)
            throw new ArgumentException($"gallery has {gallery.Count} features but galleryLabels has {galleryLabels.Count}: pass one label per feature.", nameof(galleryLabels));
        if (probes.Count != probeLabels.Count)
            throw new ArgumentException($"probes has {probes.Count} features but probeLabels has {probeLabels.Count}: pass one label per feature.", nameof(probeLabels));
        if (gallery.Count == 0)
            throw new ArgumentException("gallery is empty: identification needs at least one gallery feature.", nameof(gallery));
        targetFpirs ??= StandardFpirs;

        var identities = galleryLabels.Distinct().Order().ToArray();
        var identityIndex = new Dictionary<int, int>();
        for (int i = 0; i < identities.Length; i++)
            identityIndex[identities[i]] = i;
        int dim = gallery[0].Length;
        float[] g = Normalised(gallery, dim, nameof(gallery));
        float[] p = Normalised(probes, dim, nameof(probes));

        int probeCount = probes.Count;
        var rank = new int[probeCount];        // 0 for non-mated probes
        var topScore = new float[probeCount];  // best identity score (any identity)
        var trueScore = new float[probeCount]; // best score of the probe's identity
        Parallel.For(0, probeCount, () => new float[identities.Length], (q, _, best) =>
        {
            Array.Fill(best, float.NegativeInfinity);
            ReadOnlySpan<float> probe = p.AsSpan(q * dim, dim);
            for (int j = 0; j < gallery.Count; j++)
            {
                int id = identityIndex[galleryLabels[j]];
                float s = TensorPrimitives.Dot(probe, g.AsSpan(j * dim, dim));
                if (s > best[id]) best[id] = s;
            }
            topScore[q] = TensorPrimitives.Max(best);
            if (identityIndex.TryGetValue(probeLabels[q], out int own))
            {
                float mine = best[own];
                int higher = 0;
                foreach (float s in best)
                    higher += s > mine ? 1 : 0;
                rank[q] = higher + 1;
                trueScore[q] = mine;
            }
            return best;
        }, _ => { });

        int mated = rank.Count(r => r > 0);
        int nonMated = probeCount - mated;
        double rank1 = mated == 0 ? double.NaN : (double)rank.Count(r => r == 1) / mated;
        double rank5 = mated == 0 ? double.NaN : (double)rank.Count(r => r is > 0 and <= 5) / mated;

        var nonMatedTop = Enumerable.Range(0, probeCount).Where(q => rank[q] == 0).Select(q => topScore[q]).OrderDescending().ToArray();
        var tpirs = new TpirAtFpir[targetFpirs.Count];
        for (int k = 0; k < tpirs.Length; k++)
        {
            double target = targetFpirs[k];
            if (!(target >= 0 && target <= 1))
                throw new ArgumentOutOfRangeException(nameof(targetFpirs), target, "Each target FPIR must lie in [0, 1].");
            if (nonMated == 0)
            {
                tpirs[k] = new TpirAtFpir(target, double.NaN, double.NaN, float.NaN, IsBelowResolution: true);
                continue;
            }
            int allowed = (int)Math.Floor(target * nonMated);
            float threshold = allowed >= nonMated ? float.NegativeInfinity : nonMatedTop[allowed];
            int falsePositives = nonMatedTop.Count(s => s > threshold);
            int truePositives = Enumerable.Range(0, probeCount).Count(q => rank[q] == 1 && trueScore[q] > threshold);
            tpirs[k] = new TpirAtFpir(target, mated == 0 ? double.NaN : (double)truePositives / mated, (double)falsePositives / nonMated, threshold,
                IsBelowResolution: target < 1.0 / nonMated);
        }
        return new IdentificationResult(mated, nonMated, rank1, rank5, tpirs);
    }

    private static float[] Normalised(IReadOnlyList<float[]> rows, int dim, string name)
    {
        var flat = new float[(long)rows.Count * dim];
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r].Length != dim)
                throw new ArgumentException($"{name}[{r}] has {rows[r].Length} values, gallery[0] has {dim}: all features must have one dimension.", name);
            float norm = TensorPrimitives.Norm(rows[r]);
            TensorPrimitives.Divide(rows[r], norm == 0 ? 1 : norm, flat.AsSpan(r * dim, dim));
        }
        return flat;
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// Splits labelled samples into a gallery and probes for 1:N identification: the first sample (in
/// input order) of each enrolled identity goes to the gallery, its other samples become mated probes;
/// every sample of a held-out identity becomes a non-mated probe (for FPIR).
/// </summary>
/// <param name="Gallery">Indices of gallery samples.</param>
/// <param name="Probes">Indices of probe samples (mated and non-mated), ascending.</param>
public sealed record GalleryProbeSplit(IReadOnlyList<int> Gallery, IReadOnlyList<int> Probes)
{
    /// <summary>Splits sample indices by identity.</summary>
    /// <param name="labels">Identity of each sample.</param>
    /// <param name="nonMatedIdentityFraction">Fraction of identities (chosen with <paramref name="seed"/>) left out of the gallery, in [0, 1).</param>
    /// <param name="seed">Seed of the held-out identity draw.</param>
    public static GalleryProbeSplit Create(IReadOnlyList<int> labels, double nonMatedIdentityFraction = 0, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!(nonMatedIdentityFraction >= 0 && nonMatedIdentityFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(nonMatedIdentityFraction), nonMatedIdentityFraction, "The held-out fraction must lie in [0, 1): at least one identity must be enrolled.");
        var identities = labels.Distinct().Order().ToArray();
        new Random(seed).Shuffle(identities);
        var heldOut = identities.Take((int)Math.Floor(nonMatedIdentityFraction * identities.Length)).ToHashSet();
        var enrolled = new HashSet<int>();
        var gallery = new List<int>();
        var probes = new List<int>();
        for (int i = 0; i < labels.Count; i++)
        {
            if (!heldOut.Contains(labels[i]) && enrolled.Add(labels[i]))
                gallery.Add(i);
            else
                probes.Add(i);
        }
        return new GalleryProbeSplit(gallery, probes);
    }
}

using System.Numerics;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// One SynthFace person: the unit values of every <see cref="SynthFaceTrait"/> and a set of skin marks
/// (moles) at fixed places, drawn deterministically from (seed, identity index). A share of identities
/// are look-alikes: every continuous trait of an earlier identity perturbed (standard deviation
/// <see cref="SynthFaceOptions.LookAlikeSpread"/>, default <see cref="DefaultLookAlikeSpread"/>), discrete
/// traits kept, marks drawn afresh. The marks and the perturbation are what separate twins.
/// </summary>
public sealed class SynthFaceIdentity
{
    /// <summary>Default standard deviation of the perturbation of a look-alike's unit traits (two random identities differ by about 0.41 per trait).</summary>
    public const double DefaultLookAlikeSpread = 0.25;

    private static readonly SynthFaceTrait[] Discrete = { SynthFaceTrait.FacialHairStyle, SynthFaceTrait.Glasses, SynthFaceTrait.Baldness };
    private readonly double[] _traits;
    private readonly Vector4[] _marks;

    private SynthFaceIdentity(int seed, int index, int? lookAlikeOf, double[] traits, Vector4[] marks)
    {
        Seed = seed;
        Index = index;
        LookAlikeOf = lookAlikeOf;
        _traits = traits;
        _marks = marks;
    }

    /// <summary>Number of traits (the length of <see cref="Traits"/>).</summary>
    public static int TraitCount { get; } = Enum.GetValues<SynthFaceTrait>().Length;

    /// <summary>The seed of the identity set this person belongs to.</summary>
    public int Seed { get; }

    /// <summary>The identity index within its set.</summary>
    public int Index { get; }

    /// <summary>The index of the identity this one is a look-alike of, or null.</summary>
    public int? LookAlikeOf { get; }

    /// <summary>All unit trait values, indexed by <see cref="SynthFaceTrait"/>.</summary>
    public IReadOnlyList<double> Traits => _traits;

    /// <summary>Moles as (x, y, radius, darkness) in the 112x112 template frame of the frontal face.</summary>
    public IReadOnlyList<Vector4> Marks => _marks;

    /// <summary>The unit value of one trait.</summary>
    public double this[SynthFaceTrait trait] => _traits[(int)trait];

    /// <summary>Draws identity <paramref name="index"/> of the set with <paramref name="seed"/>.</summary>
    /// <param name="seed">Identity-set seed; different seeds give disjoint sets of people.</param>
    /// <param name="index">Identity index, 0 or more.</param>
    /// <param name="lookAlikeRate">Probability that an identity (other than the first) is a look-alike of an earlier one.</param>
    /// <param name="lookAlikeSpread">Standard deviation of a look-alike's trait perturbation (0..1).</param>
    public static SynthFaceIdentity Create(int seed, int index, double lookAlikeRate, double lookAlikeSpread = DefaultLookAlikeSpread)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (lookAlikeRate is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(lookAlikeRate), lookAlikeRate, "LookAlikeRate must be in [0, 1].");
        if (lookAlikeSpread is < 0 or > 1 || double.IsNaN(lookAlikeSpread))
            throw new ArgumentOutOfRangeException(nameof(lookAlikeSpread), lookAlikeSpread, "LookAlikeSpread must be in [0, 1].");
        var rng = new StableRandom(seed, 1, index);
        bool twin = index > 0 && rng.Chance(lookAlikeRate);
        int source = twin ? rng.Next(index) : -1;
        var traits = new double[TraitCount];
        if (twin)
        {
            var sourceTraits = Create(seed, source, lookAlikeRate, lookAlikeSpread)._traits;
            for (int t = 0; t < traits.Length; t++)
                traits[t] = Array.IndexOf(Discrete, (SynthFaceTrait)t) >= 0
                    ? sourceTraits[t]
                    : Math.Clamp(sourceTraits[t] + lookAlikeSpread * rng.Gaussian(), 0, 1);
        }
        else
        {
            for (int t = 0; t < traits.Length; t++)
                traits[t] = rng.NextDouble();
        }
        var marks = new Vector4[1 + rng.Next(5)];
        for (int m = 0; m < marks.Length; m++)
        {
            // Anywhere on the face except the eyes and lips: cheeks, forehead, chin, beside the nose.
            float x, y;
            do
            {
                x = (float)rng.Uniform(24, 88);
                y = (float)rng.Uniform(30, 105);
            }
            while (MathF.Abs(y - 51.6f) < 6 && MathF.Abs(MathF.Abs(x - 56) - 17.6f) < 10 || MathF.Abs(y - 92) < 6 && MathF.Abs(x - 56) < 17);
            marks[m] = new Vector4(x, y, (float)rng.Uniform(0.45, 1.1), (float)rng.Uniform(0.3, 0.65));
        }
        return new SynthFaceIdentity(seed, index, twin ? source : null, traits, marks);
    }
}

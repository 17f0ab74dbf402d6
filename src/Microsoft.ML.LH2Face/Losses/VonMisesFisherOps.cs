using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// log C_n(kappa) and A_n(kappa) as differentiable TorchSharp ops (elementwise over any kappa shape),
/// built from the same expansions as <see cref="VonMisesFisher"/>. They compute in float64 and return
/// the input's dtype: the log normaliser is a difference of terms near n/2 * log(2 pi) in size.
/// </summary>
internal static class VonMisesFisherOps
{
    /// <summary>log C_n(kappa), differentiable in kappa (d/dkappa = -A_n(kappa)).</summary>
    public static Tensor LogNormaliser(Tensor kappa, int dimension)
    {
        double nu = CheckDimension(dimension);
        using var scope = NewDisposeScope();
        var k = kappa.to(ScalarType.Float64).clamp(VonMisesFisher.MinKappa, VonMisesFisher.MaxKappa);
        Tensor result;
        if (nu >= VonMisesFisher.UniformMinOrder)
        {
            var (s, seriesSum) = Uniform(k, nu);
            result = nu * (Math.Log(nu) + s.log1p() - s) - dimension / 2.0 * Math.Log(2 * Math.PI)
                + 0.5 * Math.Log(2 * Math.PI * nu) + 0.5 * s.log() - seriesSum.log();
        }
        else
        {
            result = nu * k.log() - dimension / 2.0 * Math.Log(2 * Math.PI) - LogBesselISmallOrder(k, nu);
        }
        return result.to(kappa.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>A_n(kappa) = I_(n/2)(kappa) / I_(n/2-1)(kappa), differentiable in kappa.</summary>
    public static Tensor MeanResultantLength(Tensor kappa, int dimension)
    {
        double nu = CheckDimension(dimension);
        using var scope = NewDisposeScope();
        var k = kappa.to(ScalarType.Float64).clamp(VonMisesFisher.MinKappa, VonMisesFisher.MaxKappa);
        bool uniform = nu >= VonMisesFisher.UniformMinOrder;
        var ratio = (LogBesselI(k, nu + 1, uniform) - LogBesselI(k, nu, uniform)).exp();
        return ratio.to(kappa.dtype).MoveToOuterDisposeScope();
    }

    private static Tensor LogBesselI(Tensor k, double nu, bool uniform)
    {
        if (!uniform)
            return LogBesselISmallOrder(k, nu);
        var (s, seriesSum) = Uniform(k, nu);
        var t = k / nu;
        var eta = s + (t / (1 + s)).log();
        return nu * eta - 0.5 * Math.Log(2 * Math.PI * nu) - 0.5 * s.log() + seriesSum.log();
    }

    /// <summary>Series below kappa = 50, Hankel above; each branch sees kappa clamped to its own side so the other's gradient is zero, not NaN.</summary>
    private static Tensor LogBesselISmallOrder(Tensor k, double nu)
    {
        var c = VonMisesFisher.SeriesCoefficients(nu);
        var exponents = arange(c.Length, ScalarType.Float64, k.device) * 2 + nu;
        var coefficients = tensor(c, ScalarType.Float64, k.device);
        var kSeries = k.clamp_max(VonMisesFisher.SeriesMaxKappa);
        var series = ((kSeries / 2).log().unsqueeze(-1) * exponents + coefficients).logsumexp(-1);

        var a = VonMisesFisher.HankelCoefficients(nu);
        var kHankel = k.clamp_min(VonMisesFisher.SeriesMaxKappa);
        var inverse = kHankel.reciprocal();
        var sum = ones_like(kHankel) * a[^1];
        for (int j = a.Length - 2; j >= 0; j--)
            sum = sum * inverse + a[j];
        var hankel = kHankel - 0.5 * (2 * Math.PI * kHankel).log() + sum.log();
        return where(k <= VonMisesFisher.SeriesMaxKappa, series, hankel);
    }

    private static (Tensor S, Tensor SeriesSum) Uniform(Tensor k, double nu)
    {
        var t = k / nu;
        var s = (1 + t * t).sqrt();
        var p = s.reciprocal();
        Tensor sum = ones_like(k);
        double nuPower = 1;
        foreach (var u in VonMisesFisher.DebyePolynomials)
        {
            nuPower *= nu;
            var value = zeros_like(p) + u[^1];
            for (int i = u.Length - 2; i >= 0; i--)
                value = value * p + u[i];
            sum = sum + value / nuPower;
        }
        return (s, sum);
    }

    private static double CheckDimension(int dimension)
    {
        if (dimension < VonMisesFisher.MinDimension)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"The vMF dimension n is {dimension}; use n >= {VonMisesFisher.MinDimension} (Options.VmfDimension, 0 = the embedding size).");
        return dimension / 2.0 - 1;
    }
}

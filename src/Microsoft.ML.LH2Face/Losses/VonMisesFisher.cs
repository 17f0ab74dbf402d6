namespace Microsoft.ML.LH2Face;

/// <summary>
/// The von Mises-Fisher normaliser on the unit sphere S^(n-1) in plain doubles, for evaluation and for
/// scoring outside training (METHOD.md section 1):
/// log C_n(kappa) = (n/2 - 1) log kappa - (n/2) log(2 pi) - log I_(n/2-1)(kappa), and
/// A_n(kappa) = I_(n/2)(kappa) / I_(n/2-1)(kappa) = -d/dkappa log C_n(kappa), the mean resultant length.
/// </summary>
/// <remarks>
/// .NET has no Bessel function of real order. Orders nu = n/2 - 1 of at least 7 (n &gt;= 16) use the
/// uniform (Debye) asymptotic expansion with the terms u_1..u_4 (DLMF 10.41.3): its error is about
/// u_5/nu^5 &lt; 1e-7 in log I. Smaller orders use the power series summed in log space up to
/// kappa = 50 and Hankel's large-argument expansion above it (DLMF 10.40.1), where for nu &lt;= 7.5 the
/// terms fall below 1e-9 before they would grow. The TorchSharp ops used in training follow the same
/// formulas, so the two agree to rounding.
/// </remarks>
public static class VonMisesFisher
{
    /// <summary>Smallest dimension n accepted (the circle).</summary>
    public const int MinDimension = 2;

    /// <summary>Orders nu = n/2 - 1 at or above this use the uniform asymptotic expansion.</summary>
    internal const double UniformMinOrder = 7;

    /// <summary>Below this kappa the small orders use the power series, above it Hankel's expansion.</summary>
    internal const double SeriesMaxKappa = 50;

    /// <summary>Terms of the power series: at kappa = 50 and nu &lt;= 7.5, term 80 is below 1e-30 of the largest.</summary>
    internal const int SeriesTerms = 80;

    /// <summary>Terms of Hankel's expansion (for half-integer orders it ends by itself before this).</summary>
    internal const int HankelTerms = 12;

    /// <summary>kappa is clamped to this range before use; the functions are tested on [1e-3, 1e4].</summary>
    internal const double MinKappa = 1e-6, MaxKappa = 1e6;

    /// <summary>log C_n(kappa), the log normaliser of the vMF density on S^(n-1).</summary>
    /// <param name="dimension">n, the dimension of the space the sphere lives in (at least 2).</param>
    /// <param name="kappa">Concentration kappa &gt; 0 (clamped to [1e-6, 1e6]).</param>
    public static double LogNormaliser(int dimension, double kappa)
    {
        CheckArguments(dimension, kappa);
        double nu = dimension / 2.0 - 1;
        kappa = Math.Clamp(kappa, MinKappa, MaxKappa);
        if (nu >= UniformMinOrder)
        {
            // nu log k - nu eta simplifies to nu (log nu + log(1 + s) - s): no large terms cancel.
            var (s, seriesSum) = Uniform(nu, kappa);
            return nu * (Math.Log(nu) + Math.Log(1 + s) - s) - dimension / 2.0 * Math.Log(2 * Math.PI)
                + 0.5 * Math.Log(2 * Math.PI * nu) + 0.5 * Math.Log(s) - Math.Log(seriesSum);
        }
        return nu * Math.Log(kappa) - dimension / 2.0 * Math.Log(2 * Math.PI) - LogBesselISmallOrder(nu, kappa);
    }

    /// <summary>A_n(kappa) = I_(n/2)(kappa) / I_(n/2-1)(kappa) = -d/dkappa log C_n(kappa): the expected cosine between a vMF sample and its mean direction.</summary>
    /// <param name="dimension">n (at least 2).</param>
    /// <param name="kappa">Concentration kappa &gt; 0 (clamped to [1e-6, 1e6]).</param>
    public static double MeanResultantLength(int dimension, double kappa)
    {
        CheckArguments(dimension, kappa);
        double nu = dimension / 2.0 - 1;
        kappa = Math.Clamp(kappa, MinKappa, MaxKappa);
        return Math.Exp(LogBesselI(nu + 1, kappa, nu >= UniformMinOrder) - LogBesselI(nu, kappa, nu >= UniformMinOrder));
    }

    /// <summary>log I_nu(kappa) by the branch the dimension selects (uniform for n &gt;= 16, else series/Hankel).</summary>
    internal static double LogBesselI(double nu, double kappa, bool uniform)
    {
        if (!uniform)
            return LogBesselISmallOrder(nu, kappa);
        var (s, seriesSum) = Uniform(nu, kappa);
        double t = kappa / nu;
        double eta = s + Math.Log(t / (1 + s));
        return nu * eta - 0.5 * Math.Log(2 * Math.PI * nu) - 0.5 * Math.Log(s) + Math.Log(seriesSum);
    }

    private static double LogBesselISmallOrder(double nu, double kappa)
    {
        if (kappa <= SeriesMaxKappa)
        {
            var c = SeriesCoefficients(nu);
            double logHalf = Math.Log(kappa / 2), max = double.NegativeInfinity;
            var terms = new double[c.Length];
            for (int m = 0; m < c.Length; m++)
            {
                terms[m] = (2 * m + nu) * logHalf + c[m];
                max = Math.Max(max, terms[m]);
            }
            double sum = 0;
            foreach (var term in terms)
                sum += Math.Exp(term - max);
            return max + Math.Log(sum);
        }
        var a = HankelCoefficients(nu);
        double series = 0, power = 1;
        for (int j = 0; j < a.Length; j++, power /= kappa)
            series += a[j] * power;
        return kappa - 0.5 * Math.Log(2 * Math.PI * kappa) + Math.Log(series);
    }

    /// <summary>s = sqrt(1 + t^2) with t = kappa / nu, and 1 + u1(p)/nu + ... + u4(p)/nu^4 with p = 1/s.</summary>
    private static (double S, double SeriesSum) Uniform(double nu, double kappa)
    {
        double t = kappa / nu;
        double s = Math.Sqrt(1 + t * t);
        double p = 1 / s;
        double sum = 1, nuPower = 1;
        foreach (var u in DebyePolynomials)
        {
            nuPower *= nu;
            sum += Polynomial(u, p) / nuPower;
        }
        return (s, sum);
    }

    /// <summary>The Debye polynomials u_1..u_4 (DLMF 10.41.10) as coefficients of p^0, p^1, ... divided by the common denominator.</summary>
    internal static readonly double[][] DebyePolynomials =
    {
        Scaled(24, 0, 3, 0, -5),
        Scaled(1152, 0, 0, 81, 0, -462, 0, 385),
        Scaled(414720, 0, 0, 0, 30375, 0, -369603, 0, 765765, 0, -425425),
        Scaled(39813120, 0, 0, 0, 0, 4465125, 0, -94121676, 0, 349922430, 0, -446185740, 0, 185910725),
    };

    internal static double Polynomial(double[] coefficients, double x)
    {
        double value = 0;
        for (int i = coefficients.Length - 1; i >= 0; i--)
            value = value * x + coefficients[i];
        return value;
    }

    /// <summary>-log(m!) - log Gamma(m + nu + 1) for m = 0..SeriesTerms-1: the log power series is sum_m exp((2m + nu) log(kappa/2) + c_m).</summary>
    internal static double[] SeriesCoefficients(double nu)
    {
        var c = new double[SeriesTerms];
        double logFactorial = 0, logGamma = LogGammaOfHalfInteger(nu + 1);
        for (int m = 0; m < SeriesTerms; m++)
        {
            if (m > 0)
            {
                logFactorial += Math.Log(m);
                logGamma += Math.Log(m + nu);
            }
            c[m] = -logFactorial - logGamma;
        }
        return c;
    }

    /// <summary>(-1)^j prod_{i=1..j} (4 nu^2 - (2i - 1)^2) / (j! 8^j): I_nu(k) ~ e^k / sqrt(2 pi k) * sum_j a_j / k^j.</summary>
    internal static double[] HankelCoefficients(double nu)
    {
        var a = new double[HankelTerms];
        a[0] = 1;
        for (int j = 1; j < HankelTerms; j++)
            a[j] = -a[j - 1] * (4 * nu * nu - (2 * j - 1) * (2 * j - 1)) / (j * 8.0);
        return a;
    }

    /// <summary>log Gamma(x) for x a positive integer or half-integer (all that orders n/2 - 1 + 1 produce).</summary>
    private static double LogGammaOfHalfInteger(double x)
    {
        double value = 0;
        for (; x > 1.25; x -= 1)
            value += Math.Log(x - 1);
        return x < 0.75 ? value + 0.5 * Math.Log(Math.PI) : value;
    }

    private static double[] Scaled(double denominator, params double[] coefficients)
        => coefficients.Select(c => c / denominator).ToArray();

    private static void CheckArguments(int dimension, double kappa)
    {
        if (dimension < MinDimension)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"The vMF dimension n is {dimension}; use n >= {MinDimension} (the embedding size by default).");
        if (!(kappa > 0) || double.IsNaN(kappa))
            throw new ArgumentOutOfRangeException(nameof(kappa), kappa, $"The vMF concentration kappa is {kappa}; use kappa > 0 (the feature norm).");
    }
}

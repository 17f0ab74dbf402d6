using System.Numerics;

namespace Microsoft.ML.LH2Face.Data.Alignment;

/// <summary>
/// A 4-degree-of-freedom similarity transform (uniform scale, rotation, translation; no reflection):
/// x' = A x - B y + Tx, y' = B x + A y + Ty, i.e. the 2x3 matrix [[A, -B, Tx], [B, A, Ty]].
/// </summary>
/// <param name="A">Scale times cosine of the rotation angle.</param>
/// <param name="B">Scale times sine of the rotation angle.</param>
/// <param name="Tx">Translation along x.</param>
/// <param name="Ty">Translation along y.</param>
public readonly record struct SimilarityTransform(double A, double B, double Tx, double Ty)
{
    /// <summary>The identity transform.</summary>
    public static SimilarityTransform Identity => new(1, 0, 0, 0);

    /// <summary>Uniform scale factor, sqrt(A^2 + B^2).</summary>
    public double Scale => Math.Sqrt(A * A + B * B);

    /// <summary>Rotation angle in radians (counter-clockwise in x-right, y-up axes; clockwise on screen).</summary>
    public double Rotation => Math.Atan2(B, A);

    /// <summary>Determinant of the linear part, A^2 + B^2: always positive, the transform never mirrors.</summary>
    public double Determinant => A * A + B * B;

    /// <summary>Builds a transform from a scale, a rotation angle (radians) and a translation.</summary>
    public static SimilarityTransform FromScaleRotation(double scale, double rotation, double tx, double ty)
        => new(scale * Math.Cos(rotation), scale * Math.Sin(rotation), tx, ty);

    /// <summary>
    /// Least-squares similarity mapping <paramref name="source"/> onto <paramref name="destination"/>
    /// (both interleaved x0, y0, x1, y1, ...). Minimises sum |dst - T(src)|^2 over scale, proper rotation and
    /// translation: the same optimum as Umeyama's method used by skimage SimilarityTransform and insightface
    /// norm_crop, computed here in closed form because in 2-D a scaled rotation is linear in (A, B).
    /// </summary>
    /// <exception cref="ArgumentException">Point counts differ, fewer than 2 points, or all source points coincide.</exception>
    public static SimilarityTransform Estimate(ReadOnlySpan<float> source, ReadOnlySpan<float> destination)
    {
        var (a, b, tx, ty) = Fit<double>(source, destination);
        return new SimilarityTransform(a, b, tx, ty);
    }

    /// <summary>
    /// The fit of <see cref="Estimate"/> with the means, deviations, products and the translation computed in
    /// <typeparamref name="T"/> (the sums of products in double): <see cref="Estimate"/> is <c>Fit&lt;double&gt;</c>;
    /// SynthFace aligns its faces with <c>Fit&lt;float&gt;</c>, the precision its images were defined with.
    /// </summary>
    internal static (T A, T B, T Tx, T Ty) Fit<T>(ReadOnlySpan<float> source, ReadOnlySpan<float> destination)
        where T : IFloatingPointIeee754<T>
    {
        if (source.Length != destination.Length || source.Length % 2 != 0)
        {
            throw new ArgumentException($"Source ({source.Length} values) and destination ({destination.Length} values) must hold the same number of (x, y) pairs.", nameof(destination));
        }
        int n = source.Length / 2;
        if (n < 2)
        {
            throw new ArgumentException("A similarity transform needs at least 2 points.", nameof(source));
        }
        T msx = T.Zero, msy = T.Zero, mdx = T.Zero, mdy = T.Zero;
        for (int i = 0; i < n; i++)
        {
            msx += T.CreateTruncating(source[2 * i]); msy += T.CreateTruncating(source[2 * i + 1]);
            mdx += T.CreateTruncating(destination[2 * i]); mdy += T.CreateTruncating(destination[2 * i + 1]);
        }
        T count = T.CreateTruncating(n);
        msx /= count; msy /= count; mdx /= count; mdy /= count;
        double sxx = 0, dot = 0, cross = 0;
        for (int i = 0; i < n; i++)
        {
            T sx = T.CreateTruncating(source[2 * i]) - msx, sy = T.CreateTruncating(source[2 * i + 1]) - msy;
            T dx = T.CreateTruncating(destination[2 * i]) - mdx, dy = T.CreateTruncating(destination[2 * i + 1]) - mdy;
            sxx += double.CreateTruncating(sx * sx + sy * sy);
            dot += double.CreateTruncating(sx * dx + sy * dy);
            cross += double.CreateTruncating(sx * dy - sy * dx);
        }
        if (sxx <= 1e-12)
        {
            throw new ArgumentException("The source points all coincide: no similarity transform fits them.", nameof(source));
        }
        T a = T.CreateTruncating(dot / sxx), b = T.CreateTruncating(cross / sxx);
        return (a, b, mdx - (a * msx - b * msy), mdy - (b * msx + a * msy));
    }

    /// <summary>Maps one point.</summary>
    public (double X, double Y) Apply(double x, double y) => (A * x - B * y + Tx, B * x + A * y + Ty);

    /// <summary>Maps interleaved points (x0, y0, x1, y1, ...) and returns them as a new array.</summary>
    public float[] Apply(ReadOnlySpan<float> points)
    {
        var result = new float[points.Length];
        for (int i = 0; i + 1 < points.Length; i += 2)
        {
            var (x, y) = Apply(points[i], points[i + 1]);
            result[i] = (float)x;
            result[i + 1] = (float)y;
        }
        return result;
    }

    /// <summary>The inverse transform.</summary>
    /// <exception cref="InvalidOperationException">The scale is zero.</exception>
    public SimilarityTransform Invert()
    {
        double d = Determinant;
        if (d == 0)
        {
            throw new InvalidOperationException("A transform with zero scale has no inverse.");
        }
        double a = A / d, b = -B / d;
        return new SimilarityTransform(a, b, -(a * Tx - b * Ty), -(b * Tx + a * Ty));
    }

    /// <summary>The 2x3 matrix row by row: A, -B, Tx, B, A, Ty (OpenCV warpAffine layout).</summary>
    public double[] ToMatrix() => [A, -B, Tx, B, A, Ty];
}

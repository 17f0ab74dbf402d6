using Microsoft.ML.LH2Face.Data.Alignment;

namespace Microsoft.ML.LH2Face.Data.Tests.Alignment;

[TestClass]
public sealed class SimilarityTransformTests
{
    [TestMethod]
    public void Estimate_TemplateMovedByKnownTransform_RecoversInverse()
    {
        var known = SimilarityTransform.FromScaleRotation(1.7, 0.35, 40.5, -12.25);
        var template = FaceTemplate.Points112.ToArray();
        var detected = known.Apply(template);
        var fitted = FaceAligner.EstimateTransform(detected);
        var expected = known.Invert();
        Assert.AreEqual(expected.A, fitted.A, 1e-6);
        Assert.AreEqual(expected.B, fitted.B, 1e-6);
        Assert.AreEqual(expected.Tx, fitted.Tx, 1e-4);
        Assert.AreEqual(expected.Ty, fitted.Ty, 1e-4);
        Assert.AreEqual(1 / 1.7, fitted.Scale, 1e-6);
        Assert.AreEqual(-0.35, fitted.Rotation, 1e-6);
        var mapped = fitted.Apply(detected);
        for (int i = 0; i < template.Length; i++)
        {
            Assert.AreEqual(template[i], mapped[i], 1e-3, $"coordinate {i}");
        }
    }

    [TestMethod]
    public void Estimate_NoisyPoints_IsTheLeastSquaresOptimum()
    {
        var rng = new Random(11);
        var source = Enumerable.Range(0, 10).Select(_ => (float)(rng.NextDouble() * 100)).ToArray();
        var target = SimilarityTransform.FromScaleRotation(0.9, -0.4, 5, 7).Apply(source).Select(v => v + (float)(rng.NextDouble() - 0.5)).ToArray();
        var best = SimilarityTransform.Estimate(source, target);
        double Cost(SimilarityTransform t) => t.Apply(source).Zip(target, (a, b) => (double)(a - b) * (a - b)).Sum();
        double optimum = Cost(best);
        foreach (var (da, db, dx, dy) in new[] { (1e-3, 0.0, 0.0, 0.0), (-1e-3, 0.0, 0.0, 0.0), (0.0, 1e-3, 0.0, 0.0), (0.0, -1e-3, 0.0, 0.0), (0.0, 0.0, 0.05, 0.0), (0.0, 0.0, 0.0, -0.05) })
        {
            Assert.IsGreaterThan(optimum, Cost(new SimilarityTransform(best.A + da, best.B + db, best.Tx + dx, best.Ty + dy)));
        }
    }

    [TestMethod]
    public void Estimate_MirroredPoints_NoReflection()
    {
        var template = FaceTemplate.Points112.ToArray();
        var mirrored = template.Select((v, i) => i % 2 == 0 ? 200 - v : v).ToArray();
        var fitted = SimilarityTransform.Estimate(mirrored, template);
        Assert.IsGreaterThan(0.0, fitted.Determinant);
        Assert.AreEqual(fitted.A * fitted.A + fitted.B * fitted.B, fitted.Determinant, 1e-12);
        // A reflection would fit exactly; the best proper similarity cannot.
        double residual = fitted.Apply(mirrored).Zip(template, (a, b) => (double)(a - b) * (a - b)).Sum();
        Assert.IsGreaterThan(1.0, residual);
    }

    [TestMethod]
    public void Invert_ThenApply_ReturnsThePoint()
    {
        var t = SimilarityTransform.FromScaleRotation(2.5, 1.1, -3, 8);
        var (x, y) = t.Apply(12.5, -4);
        var (bx, by) = t.Invert().Apply(x, y);
        Assert.AreEqual(12.5, bx, 1e-9);
        Assert.AreEqual(-4, by, 1e-9);
        CollectionAssert.AreEqual(new[] { t.A, -t.B, t.Tx, t.B, t.A, t.Ty }, t.ToMatrix());
    }

    [TestMethod]
    public void Estimate_CoincidentPoints_Throws()
        => Assert.ThrowsExactly<ArgumentException>(() => SimilarityTransform.Estimate([1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 2, 2]));

    /// <summary>
    /// SynthFace aligns with Fit&lt;float&gt;: it must stay, bit for bit, the single-precision fit its images were defined with
    /// (float means and deviations, products summed in double, float translation), written out here as SynthFace had it.
    /// Fit&lt;double&gt; is Estimate.
    /// </summary>
    [TestMethod]
    public void Fit_FloatAndDouble_MatchTheirOwnReferenceExactly()
    {
        var random = new Random(5);
        var template = FaceTemplate.Points112.ToArray();
        for (int trial = 0; trial < 200; trial++)
        {
            var source = template.Select(v => v + (float)(random.NextDouble() * 8 - 4)).ToArray();
            var (a, b, tx, ty) = SimilarityTransform.Fit<float>(source, template);
            var (ra, rb, rtx, rty) = SinglePrecisionReference(source, template);
            Assert.AreEqual(BitConverter.SingleToInt32Bits(ra), BitConverter.SingleToInt32Bits(a), $"A, trial {trial}");
            Assert.AreEqual(BitConverter.SingleToInt32Bits(rb), BitConverter.SingleToInt32Bits(b), $"B, trial {trial}");
            Assert.AreEqual(BitConverter.SingleToInt32Bits(rtx), BitConverter.SingleToInt32Bits(tx), $"Tx, trial {trial}");
            Assert.AreEqual(BitConverter.SingleToInt32Bits(rty), BitConverter.SingleToInt32Bits(ty), $"Ty, trial {trial}");
            var estimate = SimilarityTransform.Estimate(source, template);
            var (da, db, dtx, dty) = SimilarityTransform.Fit<double>(source, template);
            Assert.AreEqual(estimate, new SimilarityTransform(da, db, dtx, dty));
            Assert.AreEqual(estimate.A, a, 1e-5, "float and double fits agree to float precision");
        }
    }

    private static (float A, float B, float Tx, float Ty) SinglePrecisionReference(float[] src, float[] dst)
    {
        int n = src.Length / 2;
        var ms = System.Numerics.Vector2.Zero;
        var md = System.Numerics.Vector2.Zero;
        for (int i = 0; i < n; i++)
        {
            ms += new System.Numerics.Vector2(src[2 * i], src[2 * i + 1]);
            md += new System.Numerics.Vector2(dst[2 * i], dst[2 * i + 1]);
        }
        ms /= n;
        md /= n;
        double sxx = 0, a = 0, b = 0;
        for (int i = 0; i < n; i++)
        {
            var p = new System.Numerics.Vector2(src[2 * i], src[2 * i + 1]) - ms;
            var q = new System.Numerics.Vector2(dst[2 * i], dst[2 * i + 1]) - md;
            sxx += p.X * p.X + p.Y * p.Y;
            a += p.X * q.X + p.Y * q.Y;
            b += p.X * q.Y - p.Y * q.X;
        }
        float fa = (float)(a / sxx), fb = (float)(b / sxx);
        return (fa, fb, md.X - (fa * ms.X - fb * ms.Y), md.Y - (fb * ms.X + fa * ms.Y));
    }
}

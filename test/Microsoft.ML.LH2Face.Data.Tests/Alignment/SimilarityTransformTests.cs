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
}

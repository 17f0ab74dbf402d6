using Microsoft.ML.LH2Face.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Losses;

/// <summary>The Proxy-Anchor losses against a direct double-precision implementation of METHOD.md section 3 on random inputs.</summary>
[TestClass]
public sealed class ProxyLossTests
{
    private const double Alpha = 32, Delta = 0.1;

    private static double[,] RandomUnitRows(Random random, int rows, int dims)
    {
        var result = new double[rows, dims];
        for (int i = 0; i < rows; i++)
        {
            double norm = 0;
            for (int k = 0; k < dims; k++)
            {
                result[i, k] = random.NextDouble() * 2 - 1;
                norm += result[i, k] * result[i, k];
            }
            for (int k = 0; k < dims; k++)
                result[i, k] /= Math.Sqrt(norm);
        }
        return result;
    }

    private static double Dot(double[,] a, int i, double[,] b, int j)
    {
        double sum = 0;
        for (int k = 0; k < a.GetLength(1); k++)
            sum += a[i, k] * b[j, k];
        return sum;
    }

    private static Tensor ToTensor(double[,] values)
        => tensor(values.Cast<double>().ToArray(), ScalarType.Float64).reshape(values.GetLength(0), values.GetLength(1));

    private static (double Pps, double Pns, double Pp) Direct(double[,] x, double[,] proxies, int[] labels)
    {
        int b = labels.Length, c = proxies.GetLength(0);
        double pps = 0, pns = 0, pp = 0;
        int withPositive = 0;
        for (int p = 0; p < c; p++)
        {
            double positives = 0, negatives = 0;
            bool any = false;
            for (int i = 0; i < b; i++)
            {
                double s = Dot(x, i, proxies, p);
                if (labels[i] == p)
                {
                    positives += Math.Exp(-Alpha * (s - Delta));
                    any = true;
                }
                else
                {
                    negatives += Math.Exp(Alpha * (s + Delta));
                }
            }
            pns += Math.Log(1 + negatives) / c;
            if (any)
            {
                pps += Math.Log(1 + positives);
                withPositive++;
                double others = 0;
                for (int q = 0; q < c; q++)
                {
                    if (q != p)
                        others += Math.Exp(Alpha * (Dot(proxies, p, proxies, q) + Delta));
                }
                pp += Math.Log(1 + others);
            }
        }
        return (pps / withPositive, pns, pp / withPositive);
    }

    [TestMethod]
    public void ProxyLosses_RandomInputs_EqualDirectDoubleImplementation()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 5; trial++)
        {
            using var scope = NewDisposeScope();
            int b = 12, c = 7, d = 6;
            var x = RandomUnitRows(random, b, d);
            var proxies = RandomUnitRows(random, c, d);
            // Repeated labels and a class without samples.
            var labels = Enumerable.Range(0, b).Select(_ => random.Next(c - 1)).ToArray();
            var expected = Direct(x, proxies, labels);

            var xt = ToTensor(x);
            var wt = ToTensor(proxies);
            var lt = tensor(labels.Select(l => (long)l).ToArray());
            var cos = MarginHead.Cosines(xt, wt);
            var target = cos.gather(1, lt.unsqueeze(1));
            Assert.AreEqual(expected.Pps, ProxyLosses.PositiveSample(target, lt, c, Alpha, Delta).item<double>(), 1e-9 * Math.Max(1, expected.Pps), "L_pps");
            Assert.AreEqual(expected.Pns, ProxyLosses.NegativeSample(cos, lt, Alpha, Delta).item<double>(), 1e-9 * Math.Max(1, expected.Pns), "L_pns");
            Assert.AreEqual(expected.Pp, ProxyLosses.ProxyProxy(wt * 2.5, MarginHead.InverseNorms(wt * 2.5), lt, Alpha, Delta).item<double>(), 1e-9 * Math.Max(1, expected.Pp), "L_pp");
        }
    }

    private static IEnumerable<int[]> Subsets(int[] items, int size, int start = 0)
    {
        if (size == 0)
        {
            yield return Array.Empty<int>();
            yield break;
        }
        for (int i = start; i <= items.Length - size; i++)
        {
            foreach (var rest in Subsets(items, size - 1, i + 1))
                yield return rest.Prepend(items[i]).ToArray();
        }
    }

    /// <summary>L_pns and L_pp over the rows <paramref name="kept"/> (ascending) with the given weight for rows outside the batch.</summary>
    private static (double Pns, double Pp) Sampled(Tensor cos, Tensor proxies, int[] labels, int[] kept, double outsideWeight)
    {
        using var scope = NewDisposeScope();
        var rows = tensor(kept.Select(k => (long)k).ToArray());
        var mapped = tensor(labels.Select(l => (long)Array.IndexOf(kept, l)).ToArray());
        var weights = tensor(kept.Select(k => labels.Contains(k) ? 1.0 : outsideWeight).ToArray(), ScalarType.Float64);
        var sub = proxies.index_select(0, rows);
        return (ProxyLosses.NegativeSample(cos.index_select(1, rows), mapped, Alpha, Delta, weights).item<double>(),
            ProxyLosses.ProxyProxy(sub, MarginHead.InverseNorms(sub), mapped, Alpha, Delta, weights).item<double>());
    }

    [TestMethod]
    public void WeightedSampledProxyLosses_AveragedOverEverySample_MatchTheFullLosses()
    {
        // C = 12 classes, the batch's 3 always kept, 4 of the other 9 sampled: each of the 126 samples is equally likely under
        // uniform sampling without replacement, so averaging over all of them is the expectation exactly, no Monte Carlo.
        var random = new Random(17);
        int b = 10, c = 12, d = 512, sampled = 4; // 512-d: the near-orthogonal proxies of real heads
        var x = RandomUnitRows(random, b, d);
        var w = RandomUnitRows(random, c, d);
        var labels = Enumerable.Range(0, b).Select(i => new[] { 2, 5, 9 }[i % 3]).ToArray();
        var full = Direct(x, w, labels);
        using var scope = NewDisposeScope();
        var cos = MarginHead.Cosines(ToTensor(x), ToTensor(w));
        var proxies = ToTensor(w) * 1.7;

        var batch = labels.Distinct().Order().ToArray();
        var others = Enumerable.Range(0, c).Except(batch).ToArray();
        double weight = (double)others.Length / sampled; // 1 / inclusion probability (4 / 9)

        // Every proxy kept: weight 1 everywhere, the full losses to double precision.
        var all = Enumerable.Range(0, c).ToArray();
        var every = Sampled(cos, proxies, labels, all, 1.0);
        Assert.AreEqual(full.Pns, every.Pns, 1e-12 * full.Pns, "L_pns with every proxy");
        Assert.AreEqual(full.Pp, every.Pp, 1e-12 * full.Pp, "L_pp with every proxy");
        Assert.IsNull(ProxySampling.InverseInclusionWeights(tensor(new long[] { 0, 3 }), c, c, ScalarType.Float64), "no weights when every class is kept");

        var samples = Subsets(others, sampled).Select(s => batch.Concat(s).Order().ToArray()).ToList();
        Assert.AreEqual(126, samples.Count);
        var weighted = samples.Select(k => Sampled(cos, proxies, labels, k, weight)).ToList();
        var unweighted = samples.Select(k => Sampled(cos, proxies, labels, k, 1.0)).ToList();

        // L_pns is a mean over proxies, linear in the per-proxy terms: the weighted mean is unbiased, equal up to rounding.
        Assert.AreEqual(full.Pns, weighted.Average(v => v.Pns), 1e-12 * full.Pns, "E[weighted sampled L_pns] = L_pns");
        Assert.IsTrue(Math.Abs(unweighted.Average(v => v.Pns) - full.Pns) > 1e-4 * full.Pns,
            $"without the weights the batch's proxies (fewer negatives each) are over-represented: {unweighted.Average(v => v.Pns)} vs {full.Pns}");

        // L_pp takes the log of a Horvitz-Thompson sum S^: the sum is unbiased, exactly; the log of it is biased low (Jensen),
        // by a second-order amount that the Monte Carlo test of FaceLoss bounds in a realistic regime. With 4 of 9 terms that
        // dominate each other here, only the direction is asserted: below the full loss, and closer than dropping the terms.
        foreach (int p in batch)
        {
            double Term(int q) => Math.Exp(Alpha * (Dot(w, p, w, q) + Delta));
            double batchPart = batch.Where(q => q != p).Sum(Term);
            double fullSum = batchPart + others.Sum(Term);
            Assert.AreEqual(fullSum, samples.Average(k => batchPart + weight * k.Except(batch).Sum(Term)), 1e-12 * fullSum, "the weighted sum is unbiased");
        }
        double gap = full.Pp - weighted.Average(v => v.Pp);
        double unweightedGap = full.Pp - unweighted.Average(v => v.Pp);
        Assert.IsTrue(gap >= -1e-12 && gap < 0.5 * unweightedGap, $"E[weighted sampled L_pp] is below L_pp = {full.Pp} by {gap}; unweighted by {unweightedGap}");
    }

    [TestMethod]
    public void ProxyLosses_Float32NearlyAlignedInputs_StayFinite()
    {
        using var scope = NewDisposeScope();
        // Every sample on every proxy: the largest exponent alpha (1 + delta) = 35.2.
        var w = ones(50, 4) / 2;
        var cos = MarginHead.Cosines(ones(64, 4) / 2, w);
        var labels = zeros(64, ScalarType.Int64);
        foreach (var value in new[]
        {
            ProxyLosses.PositiveSample(cos.gather(1, labels.unsqueeze(1)), labels, 50, Alpha, Delta),
            ProxyLosses.NegativeSample(cos, labels, Alpha, Delta),
            ProxyLosses.ProxyProxy(w, MarginHead.InverseNorms(w), labels, Alpha, Delta),
        })
        {
            Assert.IsTrue(float.IsFinite(value.item<float>()));
        }
        // L_pns of proxy 1..49: log(1 + 64 e^35.2); proxy 0 has no negatives.
        Assert.AreEqual(49 * (Math.Log(64) + 35.2) / 50, ProxyLosses.NegativeSample(cos, labels, Alpha, Delta).item<float>(), 1e-3);
    }
}

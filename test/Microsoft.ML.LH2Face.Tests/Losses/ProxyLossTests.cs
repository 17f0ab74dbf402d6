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

using System.Globalization;
using System.Text;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>Means over an epoch of each loss term, of the batch mean and spread of kappa and of the margin, for the training log.</summary>
internal sealed class EpochTermMeans
{
    private readonly Dictionary<string, double> sums = new();
    private readonly List<string> order = new();
    private double kappaMean, kappaStd, margin;
    private int steps, marginSteps;

    public void Add(IReadOnlyDictionary<string, float> terms, float meanKappa, float stdKappa, float? meanMargin)
    {
        foreach (var (name, value) in terms)
        {
            if (!sums.ContainsKey(name))
            {
                sums[name] = 0;
                order.Add(name);
            }
            sums[name] += value;
        }
        kappaMean += meanKappa;
        kappaStd += stdKappa;
        if (meanMargin is float m)
        {
            margin += m;
            marginSteps++;
        }
        steps++;
    }

    /// <summary>e.g. "cross_entropy 7.1234, proxy_pns 1.2000, kappa 21.30 +- 3.10, margin 7.02".</summary>
    public string Describe()
    {
        if (steps == 0)
            return "no steps";
        var text = new StringBuilder();
        foreach (var name in order)
            text.Append(CultureInfo.InvariantCulture, $"{name} {sums[name] / steps:F4}, ");
        text.Append(CultureInfo.InvariantCulture, $"kappa {kappaMean / steps:F2} +- {kappaStd / steps:F2}");
        if (marginSteps > 0)
            text.Append(CultureInfo.InvariantCulture, $", margin {margin / marginSteps:F3}");
        return text.ToString();
    }
}

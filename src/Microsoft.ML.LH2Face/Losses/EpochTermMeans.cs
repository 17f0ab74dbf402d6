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

    public EpochTermMeans()
    {
    }

    /// <summary>Continues the running sums of <paramref name="state"/> (a resumed run logs the epoch it was stopped in as if it had not been).</summary>
    public EpochTermMeans(EpochTermSums state)
    {
        foreach (var (name, sum) in state.Terms)
        {
            sums[name] = sum;
            order.Add(name);
        }
        (kappaMean, kappaStd, margin, steps, marginSteps) = (state.KappaMean, state.KappaStd, state.Margin, state.Steps, state.MarginSteps);
    }

    /// <summary>The running sums, for a checkpoint.</summary>
    public EpochTermSums Sums => new()
    {
        Terms = order.Select(name => new KeyValuePair<string, double>(name, sums[name])).ToList(),
        KappaMean = kappaMean, KappaStd = kappaStd, Margin = margin, Steps = steps, MarginSteps = marginSteps,
    };

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

/// <summary>The running sums of <see cref="EpochTermMeans"/> within an epoch, in the order the terms first appeared (saved in checkpoints).</summary>
internal sealed record EpochTermSums
{
    public List<KeyValuePair<string, double>> Terms { get; init; } = new();
    public double KappaMean { get; init; }
    public double KappaStd { get; init; }
    public double Margin { get; init; }
    public int Steps { get; init; }
    public int MarginSteps { get; init; }
}

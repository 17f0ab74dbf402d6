using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>At most a few hundred ROC points, log-spaced in FAR, for plots and JSON (an IJB ROC has millions).</summary>
internal static class RocSampler
{
    public readonly record struct Point(double Far, double Tar, float Threshold);

    public static IReadOnlyList<Point> Sample(RocCurve roc, int perDecade = 25)
    {
        var indices = new SortedSet<int> { 0, roc.Count - 1 };
        double smallest = 1.0 / roc.ImpostorCount;
        int decades = (int)Math.Ceiling(-Math.Log10(smallest));
        for (int k = 0; k <= decades * perDecade; k++)
            indices.Add(roc.NearestIndex(Math.Pow(10, -k / (double)perDecade)));
        return indices.Select(i => new Point(roc.FalseAcceptRate(i), roc.TrueAcceptRate(i), roc.Thresholds[i])).ToArray();
    }
}

using System.Numerics.Tensors;

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// The accuracy protocol of the insightface .bin verification sets (LFW, CFP-FP, AgeDB-30, CALFW,
/// CPLFW), after insightface's <c>verification.py</c>: squared L2 distance of L2-normalised features;
/// k folds, contiguous and not shuffled (scikit-learn KFold: the first n mod k folds hold one extra
/// pair); per fold the accuracy-maximising threshold of the grid 0, 0.01, .., 3.99 on the other folds
/// (first maximum) scores the held-out fold; a pair is "same" when distance &lt; threshold.
/// VAL@FAR follows <c>calculate_val</c>: grid 0, 0.001, .., 3.999; the threshold where the training
/// FAR reaches the target, linear between the largest grid threshold below it and the smallest at or
/// above it (0 when the training FAR never reaches the target); VAL and FAR measured on the held-out fold.
/// A held-out fold without genuine (or impostor) pairs gives NaN VAL (or FAR), as numpy does.
/// </summary>
public static class TenFoldVerification
{
    private const int AccuracyGridSize = 400;
    private const double AccuracyGridStep = 0.01;
    private const int ValGridSize = 4000;
    private const double ValGridStep = 0.001;

    /// <summary>
    /// Evaluates 2N features in pair order (pair k = features[2k], features[2k+1]); each feature is the
    /// sum of the embeddings of an image and of its horizontal flip; they are L2-normalised here.
    /// </summary>
    /// <param name="features">2N features of one dimension.</param>
    /// <param name="isSame">N labels: whether pair k is of one identity.</param>
    /// <param name="folds">Number of folds (10 in the protocol).</param>
    /// <param name="valTargetFar">FAR target for VAL (1e-3 in the protocol).</param>
    public static TenFoldResult Evaluate(IReadOnlyList<float[]> features, IReadOnlyList<bool> isSame, int folds = 10, double valTargetFar = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(isSame);
        if (features.Count != 2 * isSame.Count)
            throw new ArgumentException($"features holds {features.Count} rows but isSame has {isSame.Count} pairs: pass two features (both images of a pair, in order) per label.", nameof(features));
        return EvaluateDistances(SquaredDistances(features), isSame.ToArray(), folds, valTargetFar);
    }

    /// <summary>Squared L2 distances of the L2-normalised features of each pair (2k, 2k+1).</summary>
    /// <param name="features">2N features of one dimension.</param>
    public static double[] SquaredDistances(IReadOnlyList<float[]> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        int n = features.Count / 2;
        int dim = n == 0 ? 0 : features[0].Length;
        var distances = new double[n];
        var a = new float[dim];
        var b = new float[dim];
        for (int k = 0; k < n; k++)
        {
            Normalise(features[2 * k], a, 2 * k);
            Normalise(features[2 * k + 1], b, 2 * k + 1);
            TensorPrimitives.Subtract(a, b, a);
            distances[k] = TensorPrimitives.Dot(a, a);
        }
        return distances;

        void Normalise(float[] source, float[] destination, int row)
        {
            if (source.Length != dim)
                throw new ArgumentException($"features[{row}] has {source.Length} values, features[0] has {dim}: all features must have one dimension.", nameof(features));
            float norm = TensorPrimitives.Norm(source);
            // scikit-learn's normalize leaves a zero vector as is.
            TensorPrimitives.Divide(source, norm == 0 ? 1 : norm, destination);
        }
    }

    /// <summary>Evaluates precomputed squared distances (smaller = more alike).</summary>
    /// <param name="squaredDistances">N distances.</param>
    /// <param name="isSame">N labels.</param>
    /// <param name="folds">Number of folds.</param>
    /// <param name="valTargetFar">FAR target for VAL.</param>
    public static TenFoldResult EvaluateDistances(ReadOnlySpan<double> squaredDistances, ReadOnlySpan<bool> isSame, int folds = 10, double valTargetFar = 1e-3)
    {
        int n = squaredDistances.Length;
        if (isSame.Length != n)
            throw new ArgumentException($"squaredDistances has {n} values but isSame has {isSame.Length}: pass one label per pair.", nameof(isSame));
        if (folds < 2 || folds > n)
            throw new ArgumentOutOfRangeException(nameof(folds), folds, $"folds must lie in 2 .. number of pairs ({n}).");

        double[] accuracyGrid = Grid(AccuracyGridSize, AccuracyGridStep);
        double[] valGrid = Grid(ValGridSize, ValGridStep);
        int[] accuracyBin = Bins(squaredDistances, accuracyGrid);
        int[] valBin = Bins(squaredDistances, valGrid);

        var accuracies = new double[folds];
        var thresholds = new double[folds];
        var vals = new double[folds];
        var fars = new double[folds];
        int start = 0;
        for (int f = 0; f < folds; f++)
        {
            int size = n / folds + (f < n % folds ? 1 : 0);
            int end = start + size;

            var (trainSame, trainDiff) = Cumulative(accuracyBin, isSame, AccuracyGridSize, start, end, train: true);
            long trainDiffTotal = trainDiff[^1];
            int best = 0;
            long bestCorrect = -1;
            for (int t = 0; t < AccuracyGridSize; t++)
            {
                long correct = trainSame[t] + (trainDiffTotal - trainDiff[t]);
                if (correct > bestCorrect)
                {
                    bestCorrect = correct;
                    best = t;
                }
            }
            thresholds[f] = accuracyGrid[best];
            long testCorrect = 0;
            for (int i = start; i < end; i++)
                testCorrect += (squaredDistances[i] < accuracyGrid[best]) == isSame[i] ? 1 : 0;
            accuracies[f] = (double)testCorrect / size;

            var (_, valTrainDiff) = Cumulative(valBin, isSame, ValGridSize, start, end, train: true);
            long valDiffTotal = valTrainDiff[^1];
            double threshold = 0;
            if (valDiffTotal > 0 && (double)valTrainDiff[ValGridSize - 1] / valDiffTotal >= valTargetFar)
            {
                int hi = 0;
                while ((double)valTrainDiff[hi] / valDiffTotal < valTargetFar)
                    hi++;
                if (hi == 0)
                {
                    threshold = valGrid[0];
                }
                else
                {
                    // Largest threshold below the target FAR, then linear to the first one reaching it.
                    double farLo = (double)valTrainDiff[hi - 1] / valDiffTotal;
                    double farHi = (double)valTrainDiff[hi] / valDiffTotal;
                    threshold = valGrid[hi - 1] + (valTargetFar - farLo) * (valGrid[hi] - valGrid[hi - 1]) / (farHi - farLo);
                }
            }
            long ta = 0, fa = 0, same = 0, diff = 0;
            for (int i = start; i < end; i++)
            {
                bool accept = squaredDistances[i] < threshold;
                if (isSame[i]) { same++; ta += accept ? 1 : 0; }
                else { diff++; fa += accept ? 1 : 0; }
            }
            vals[f] = (double)ta / same;
            fars[f] = (double)fa / diff;
            start = end;
        }
        return new TenFoldResult(accuracies.Average(), Std(accuracies), accuracies, thresholds, vals.Average(), Std(vals), fars.Average(), valTargetFar);
    }

    private static double[] Grid(int size, double step)
    {
        var grid = new double[size];
        for (int k = 0; k < size; k++)
            grid[k] = k * step; // numpy arange: start + k * step
        return grid;
    }

    /// <summary>Per pair, the first grid index whose threshold exceeds the distance (the pair is "same" from there on).</summary>
    private static int[] Bins(ReadOnlySpan<double> distances, double[] grid)
    {
        var bins = new int[distances.Length];
        for (int i = 0; i < distances.Length; i++)
        {
            double d = distances[i];
            int lo = 0, hi = grid.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (grid[mid] > d) hi = mid; else lo = mid + 1;
            }
            bins[i] = lo;
        }
        return bins;
    }

    /// <summary>Cumulative counts of same / different pairs predicted "same" at each grid index, over the training (or test) rows.</summary>
    private static (long[] Same, long[] Diff) Cumulative(int[] bins, ReadOnlySpan<bool> isSame, int gridSize, int testStart, int testEnd, bool train)
    {
        var same = new long[gridSize + 1];
        var diff = new long[gridSize + 1];
        for (int i = 0; i < bins.Length; i++)
        {
            bool inTest = i >= testStart && i < testEnd;
            if (inTest == train)
                continue;
            if (isSame[i]) same[bins[i]]++; else diff[bins[i]]++;
        }
        for (int t = 1; t <= gridSize; t++)
        {
            same[t] += same[t - 1];
            diff[t] += diff[t - 1];
        }
        // Index gridSize counts pairs beyond every threshold: the totals.
        return (same, diff);
    }

    private static double Std(double[] values)
    {
        double mean = values.Average();
        double sum = 0;
        foreach (double v in values)
            sum += (v - mean) * (v - mean);
        return Math.Sqrt(sum / values.Length);
    }
}

namespace Microsoft.ML.LH2Face.Data.Alignment;

/// <summary>
/// Reduces the 68-point iBUG/Multi-PIE landmark layout to the 5 points of the ArcFace template.
/// Indices are 0-based (the usual 1-based numbering minus one): 36..41 left eye, 42..47 right eye (as seen in the
/// image), 30 nose tip, 48 and 54 mouth corners.
/// </summary>
public static class Landmarks68
{
    /// <summary>
    /// The 5 points (x0, y0, ..., x4, y4) from 68 points (x0, y0, ..., x67, y67), as PROTOCOLS.md states:
    /// left eye = mean of points 36..39, right eye = mean of points 42..45, nose = 30, mouth corners = 48 and 54.
    /// </summary>
    /// <exception cref="ArgumentException">The span does not hold 136 values.</exception>
    public static float[] ToFivePoints(ReadOnlySpan<float> points68)
    {
        if (points68.Length != 136)
        {
            throw new ArgumentException($"Expected 68 (x, y) points (136 values), got {points68.Length} values.", nameof(points68));
        }
        var result = new float[10];
        Mean(points68, 36, 39, result, 0);
        Mean(points68, 42, 45, result, 1);
        Copy(points68, 30, result, 2);
        Copy(points68, 48, result, 3);
        Copy(points68, 54, result, 4);
        return result;
    }

    private static void Mean(ReadOnlySpan<float> points, int first, int last, float[] result, int slot)
    {
        double x = 0, y = 0;
        for (int i = first; i <= last; i++)
        {
            x += points[2 * i];
            y += points[2 * i + 1];
        }
        int n = last - first + 1;
        result[2 * slot] = (float)(x / n);
        result[2 * slot + 1] = (float)(y / n);
    }

    private static void Copy(ReadOnlySpan<float> points, int index, float[] result, int slot)
    {
        result[2 * slot] = points[2 * index];
        result[2 * slot + 1] = points[2 * index + 1];
    }
}

using System.Globalization;
using Microsoft.ML.LH2Face.Data.Evaluation;
using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>
/// ROC and score-histogram PNGs drawn with SkiaSharp 2.88 (the version Microsoft.ML.ImageAnalytics
/// brings). ScottPlot 5.1 is not used: it requires SkiaSharp 3.x, and SkiaSharp 3 removes
/// SKBitmap.GetPixelSpan, which MLImage.Pixels calls, so referencing it breaks every MLImage reader of
/// this library (MissingMethodException at run time).
/// </summary>
internal static class ReportPlots
{
    private const int Width = 800;
    private const int Height = 560;
    private const float Left = 80, Right = 20, Top = 44, Bottom = 64;

    private static readonly SKColor[] Palette =
    {
        new(0x1f, 0x77, 0xb4), new(0xd6, 0x27, 0x28), new(0x2c, 0xa0, 0x2c), new(0xff, 0x7f, 0x0e),
        new(0x94, 0x67, 0xbd), new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f),
    };

    /// <summary>ROC curves of several results on a log10 FAR axis.</summary>
    public static byte[] Roc(IReadOnlyList<KeyValuePair<string, VerificationResult>> results)
    {
        var series = new List<(string Name, double[] X, double[] Y)>();
        double xMin = -1;
        foreach (var (name, result) in results)
        {
            var points = RocSampler.Sample(result.Roc).Where(p => p.Far > 0).ToArray();
            series.Add((name, points.Select(p => Math.Log10(p.Far)).ToArray(), points.Select(p => p.Tar).ToArray()));
            if (points.Length > 0)
                xMin = Math.Min(xMin, Math.Floor(Math.Log10(points[0].Far)));
        }
        var xTicks = Enumerable.Range(0, (int)-xMin + 1).Select(k => xMin + k).ToArray();
        var yTicks = Enumerable.Range(0, 6).Select(k => k * 0.2).ToArray();
        return Draw("ROC", "False accept rate", "True accept rate", xMin, 0, 0, 1.02, xTicks, x => $"1e{x:0}", yTicks, y => y.ToString("0.0", CultureInfo.InvariantCulture), series);
    }

    /// <summary>Genuine and impostor score histograms (fraction of each class per bin).</summary>
    public static byte[] Histogram(string name, ScoreHistogram histogram)
    {
        int bins = histogram.Genuine.Count;
        var centres = Enumerable.Range(0, bins).Select(b => histogram.Minimum + (b + 0.5) * histogram.BinWidth).ToArray();
        double[] Fractions(IReadOnlyList<long> counts)
        {
            double total = Math.Max(1, counts.Sum());
            return counts.Select(c => c / total).ToArray();
        }
        var series = new List<(string, double[], double[])>
        {
            ("impostor", centres, Fractions(histogram.Impostor)),
            ("genuine", centres, Fractions(histogram.Genuine)),
        };
        double xMin = histogram.Minimum, xMax = histogram.Minimum + bins * histogram.BinWidth;
        double yMax = Math.Max(1e-9, series.Max(s => s.Item3.Max())) * 1.05;
        var xTicks = Enumerable.Range(0, 6).Select(k => xMin + k * (xMax - xMin) / 5).ToArray();
        var yTicks = Enumerable.Range(0, 6).Select(k => k * yMax / 5).ToArray();
        return Draw($"Score distribution: {name}", "Score", "Fraction of pairs", xMin, xMax, 0, yMax,
            xTicks, x => x.ToString("0.###", CultureInfo.InvariantCulture), yTicks, y => y.ToString("0.###", CultureInfo.InvariantCulture), series);
    }

    private static byte[] Draw(string title, string xLabel, string yLabel, double xMin, double xMax, double yMin, double yMax,
        double[] xTicks, Func<double, string> xFormat, double[] yTicks, Func<double, string> yFormat,
        IReadOnlyList<(string Name, double[] X, double[] Y)> series)
    {
        using var bitmap = new SKBitmap(Width, Height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        float plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        float Px(double x) => Left + (float)((x - xMin) / (xMax - xMin == 0 ? 1 : xMax - xMin)) * plotW;
        float Py(double y) => Top + plotH - (float)((y - yMin) / (yMax - yMin == 0 ? 1 : yMax - yMin)) * plotH;

        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 14, IsAntialias = true };
        using var titleText = new SKPaint { Color = SKColors.Black, TextSize = 18, IsAntialias = true, FakeBoldText = true };

        foreach (double x in xTicks)
        {
            canvas.DrawLine(Px(x), Top, Px(x), Top + plotH, grid);
            string label = xFormat(x);
            canvas.DrawText(label, Px(x) - text.MeasureText(label) / 2, Top + plotH + 20, text);
        }
        foreach (double y in yTicks)
        {
            canvas.DrawLine(Left, Py(y), Left + plotW, Py(y), grid);
            string label = yFormat(y);
            canvas.DrawText(label, Left - 8 - text.MeasureText(label), Py(y) + 5, text);
        }
        canvas.DrawRect(Left, Top, plotW, plotH, axis);
        canvas.DrawText(title, Left + (plotW - titleText.MeasureText(title)) / 2, Top - 14, titleText);
        canvas.DrawText(xLabel, Left + (plotW - text.MeasureText(xLabel)) / 2, Height - 16, text);
        canvas.Save();
        canvas.RotateDegrees(-90);
        canvas.DrawText(yLabel, -(Top + (plotH + text.MeasureText(yLabel)) / 2), 22, text);
        canvas.Restore();

        canvas.Save();
        canvas.ClipRect(new SKRect(Left, Top, Left + plotW, Top + plotH));
        for (int s = 0; s < series.Count; s++)
        {
            var (_, xs, ys) = series[s];
            if (xs.Length == 0)
                continue;
            using var line = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
            using var path = new SKPath();
            path.MoveTo(Px(xs[0]), Py(ys[0]));
            for (int i = 1; i < xs.Length; i++)
                path.LineTo(Px(xs[i]), Py(ys[i]));
            canvas.DrawPath(path, line);
        }
        canvas.Restore();

        // Legend, top right inside the plot.
        float legendY = Top + 18;
        for (int s = 0; s < series.Count; s++)
        {
            using var swatch = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 3, IsAntialias = true };
            float textW = text.MeasureText(series[s].Name);
            float x0 = Left + plotW - textW - 44;
            canvas.DrawLine(x0, legendY - 5, x0 + 24, legendY - 5, swatch);
            canvas.DrawText(series[s].Name, x0 + 30, legendY, text);
            legendY += 20;
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}

using System.Globalization;
using Microsoft.ML.LH2Face.Data.Evaluation;
using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>
/// ROC, score-histogram and bar-chart PNGs drawn with SkiaSharp 2.88 (the version Microsoft.ML.ImageAnalytics
/// brings). ScottPlot 5.1 is not used: it requires SkiaSharp 3.x, and SkiaSharp 3 removes
/// SKBitmap.GetPixelSpan, which MLImage.Pixels calls, so referencing it breaks every MLImage reader of
/// this library (MissingMethodException at run time). The legend stands in a column right of the plot,
/// never over the curves; series take 12 distinct colours, then the colours again dashed.
/// </summary>
public static class ReportPlots
{
    private const int PanelWidth = 640;
    private const int Height = 560;
    private const float Left = 80, Right = 20, Top = 44, Bottom = 64;
    private const float LegendSwatch = 28, LegendGap = 8, LegendRow = 20, LegendPadding = 16;
    private const float BarSlot = 110, BarFill = 0.6f;

    /// <summary>Twelve colours told apart on white (Tableau 10, then a dark teal and an olive).</summary>
    private static readonly SKColor[] Palette =
    {
        new(0x1f, 0x77, 0xb4), new(0xd6, 0x27, 0x28), new(0x2c, 0xa0, 0x2c), new(0xff, 0x7f, 0x0e),
        new(0x94, 0x67, 0xbd), new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f),
        new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf), new(0x00, 0x4d, 0x40), new(0x55, 0x6b, 0x2f),
    };

    /// <summary>Number of distinct solid colours before series repeat a colour with a dashed line.</summary>
    public static int ColourCount => Palette.Length;

    /// <summary>A curve: its legend name and its points.</summary>
    public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

    /// <summary>ROC curves of several results on a log10 FAR axis, one panel.</summary>
    public static byte[] Roc(IReadOnlyList<KeyValuePair<string, VerificationResult>> results)
        => RocPanels(new[] { ("ROC", (IReadOnlyList<Series>)results.Select(r => RocSeries(r.Key, r.Value.Roc)).ToList()) });

    /// <summary>The ROC of one result as a series on a log10 FAR axis (points with FAR 0 left out).</summary>
    public static Series RocSeries(string name, RocCurve roc)
    {
        var points = RocSampler.Sample(roc).Where(p => p.Far > 0).ToArray();
        return new Series(name, points.Select(p => Math.Log10(p.Far)).ToArray(), points.Select(p => p.Tar).ToArray());
    }

    /// <summary>
    /// Panels side by side (e.g. one per stratum), each with its title, sharing the FAR axis range, the
    /// colours (a series name keeps its colour in every panel) and one legend at the right.
    /// </summary>
    public static byte[] RocPanels(IReadOnlyList<(string Title, IReadOnlyList<Series> Series)> panels)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0)
            throw new ArgumentException("Give at least one panel.", nameof(panels));
        double xMin = -1;
        foreach (var (_, series) in panels)
            foreach (var s in series)
                if (s.X.Count > 0)
                    xMin = Math.Min(xMin, Math.Floor(s.X.Min()));
        var xTicks = Enumerable.Range(0, (int)-xMin + 1).Select(k => xMin + k).ToArray();
        var yTicks = Enumerable.Range(0, 6).Select(k => k * 0.2).ToArray();
        var axes = new Axes("False accept rate", "True accept rate", xMin, 0, 0, 1.02, xTicks, x => $"1e{x:0}", yTicks, y => y.ToString("0.0", CultureInfo.InvariantCulture));
        return Draw(panels, axes);
    }

    /// <summary>Genuine and impostor score histograms (fraction of each class per bin).</summary>
    public static byte[] Histogram(string name, ScoreHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        int bins = histogram.Genuine.Count;
        var centres = Enumerable.Range(0, bins).Select(b => histogram.Minimum + (b + 0.5) * histogram.BinWidth).ToArray();
        double[] Fractions(IReadOnlyList<long> counts)
        {
            double total = Math.Max(1, counts.Sum());
            return counts.Select(c => c / total).ToArray();
        }
        var series = new List<Series>
        {
            new("impostor", centres, Fractions(histogram.Impostor)),
            new("genuine", centres, Fractions(histogram.Genuine)),
        };
        double xMin = histogram.Minimum, xMax = histogram.Minimum + bins * histogram.BinWidth;
        double yMax = Math.Max(1e-9, series.Max(s => s.Y.Max())) * 1.05;
        var xTicks = Enumerable.Range(0, 6).Select(k => xMin + k * (xMax - xMin) / 5).ToArray();
        var yTicks = Enumerable.Range(0, 6).Select(k => k * yMax / 5).ToArray();
        var axes = new Axes("Score", "Fraction of pairs", xMin, xMax, 0, yMax,
            xTicks, x => x.ToString("0.###", CultureInfo.InvariantCulture), yTicks, y => y.ToString("0.###", CultureInfo.InvariantCulture));
        return Draw(new[] { ($"Score distribution: {name}", (IReadOnlyList<Series>)series) }, axes);
    }

    /// <summary>A bar: its label, its value and the half-length of its error whisker (0 for none).</summary>
    public sealed record Bar(string Name, double Value, double Error = 0);

    /// <summary>
    /// One bar per entry, in order, each in its own colour (the series colours), with an error whisker of
    /// +- <see cref="Bar.Error"/>, its value printed beside the top of the bar and its name below. The chart is
    /// at least as wide as its title. The value axis starts at 0
    /// and ends a little above the highest bar top (value + error).
    /// </summary>
    /// <param name="title">Chart title.</param>
    /// <param name="valueLabel">Label of the value axis, e.g. "hard-HQ TAR@FAR=1e-2 (%)".</param>
    /// <param name="bars">The bars; values and errors must be finite, values at least 0.</param>
    /// <param name="valueFormat">Format of the printed values (default one decimal).</param>
    public static byte[] Bars(string title, string valueLabel, IReadOnlyList<Bar> bars, string valueFormat = "0.0")
    {
        ArgumentNullException.ThrowIfNull(bars);
        if (bars.Count == 0)
            throw new ArgumentException("Give at least one bar.", nameof(bars));
        foreach (var b in bars)
            if (!double.IsFinite(b.Value) || !double.IsFinite(b.Error) || b.Value < 0 || b.Error < 0)
                throw new ArgumentException($"Bar '{b.Name}' has value {b.Value} and error {b.Error}: both must be finite and at least 0.", nameof(bars));
        double top = bars.Max(b => b.Value + b.Error);
        double step = NiceStep(top <= 0 ? 1 : top / 5);
        double yMax = Math.Ceiling(top * 1.08 / step) * step;
        if (yMax <= 0)
            yMax = step;
        int ticks = (int)Math.Round(yMax / step);
        var yTicks = Enumerable.Range(0, ticks + 1).Select(k => k * step).ToArray();

        using var text = new SKPaint { Color = SKColors.Black, TextSize = 14, IsAntialias = true };
        using var titleText = new SKPaint { Color = SKColors.Black, TextSize = 18, IsAntialias = true, FakeBoldText = true };
        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var whisker = new SKPaint { Color = SKColors.Black, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        float slot = Math.Max(BarSlot, bars.Max(b => text.MeasureText(b.Name)) + 12);
        float plotW = Math.Max(bars.Count * slot, titleText.MeasureText(title) + 20), plotH = Height - Top - Bottom;
        slot = plotW / bars.Count;
        int width = (int)Math.Ceiling(Left + plotW + Right);
        using var bitmap = new SKBitmap(width, Height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        float Py(double y) => Top + plotH - (float)(y / yMax) * plotH;
        foreach (double y in yTicks)
        {
            canvas.DrawLine(Left, Py(y), Left + plotW, Py(y), grid);
            string label = y.ToString("0.###", CultureInfo.InvariantCulture);
            canvas.DrawText(label, Left - 8 - text.MeasureText(label), Py(y) + 5, text);
        }
        for (int i = 0; i < bars.Count; i++)
        {
            var b = bars[i];
            float centre = Left + (i + 0.5f) * slot, half = slot * BarFill / 2;
            using var fill = new SKPaint { Color = Palette[i % Palette.Length], Style = SKPaintStyle.Fill };
            canvas.DrawRect(SKRect.Create(centre - half, Py(b.Value), 2 * half, Py(0) - Py(b.Value)), fill);
            if (b.Error > 0)
            {
                float low = Py(Math.Max(0, b.Value - b.Error)), high = Py(b.Value + b.Error);
                canvas.DrawLine(centre, low, centre, high, whisker);
                canvas.DrawLine(centre - 6, high, centre + 6, high, whisker);
                canvas.DrawLine(centre - 6, low, centre + 6, low, whisker);
            }
            string value = b.Value.ToString(valueFormat, CultureInfo.InvariantCulture);
            canvas.DrawText(value, centre + 9, Py(b.Value + b.Error * 0.5) - 4, text);
            canvas.DrawText(b.Name, centre - text.MeasureText(b.Name) / 2, Top + plotH + 20, text);
        }
        canvas.DrawRect(Left, Top, plotW, plotH, axis);
        canvas.DrawText(title, Left + (plotW - titleText.MeasureText(title)) / 2, Top - 14, titleText);
        canvas.Save();
        canvas.RotateDegrees(-90);
        canvas.DrawText(valueLabel, -(Top + (plotH + text.MeasureText(valueLabel)) / 2), 22, text);
        canvas.Restore();
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        foreach (double m in new[] { 1.0, 2.0, 5.0, 10.0 })
            if (m * power >= rough)
                return m * power;
        return 10 * power;
    }

    private sealed record Axes(string XLabel, string YLabel, double XMin, double XMax, double YMin, double YMax,
        double[] XTicks, Func<double, string> XFormat, double[] YTicks, Func<double, string> YFormat);

    /// <summary>The colour and dash of the series at <paramref name="index"/> of the legend.</summary>
    private static SKPaint Pen(int index, float width)
    {
        var paint = new SKPaint { Color = Palette[index % Palette.Length], StrokeWidth = width, Style = SKPaintStyle.Stroke, IsAntialias = true };
        if (index >= Palette.Length)
            paint.PathEffect = SKPathEffect.CreateDash(new[] { 8f, 5f }, 0);
        return paint;
    }

    private static byte[] Draw(IReadOnlyList<(string Title, IReadOnlyList<Series> Series)> panels, Axes axes)
    {
        // One legend entry per distinct name, in order of first appearance; a name keeps its pen in every panel.
        var names = panels.SelectMany(p => p.Series.Select(s => s.Name)).Distinct().ToList();
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 14, IsAntialias = true };
        float legendWidth = names.Count == 0 ? 0 : LegendPadding + LegendSwatch + LegendGap + names.Max(n => text.MeasureText(n)) + LegendPadding;
        int width = (int)Math.Ceiling(panels.Count * PanelWidth + legendWidth);
        using var bitmap = new SKBitmap(width, Height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        for (int p = 0; p < panels.Count; p++)
            DrawPanel(canvas, p * PanelWidth, panels[p].Title, panels[p].Series, names, axes, text);

        float legendX = panels.Count * PanelWidth + LegendPadding, legendY = Top + 18;
        for (int s = 0; s < names.Count; s++)
        {
            using var swatch = Pen(s, 3);
            canvas.DrawLine(legendX, legendY - 5, legendX + LegendSwatch, legendY - 5, swatch);
            canvas.DrawText(names[s], legendX + LegendSwatch + LegendGap, legendY, text);
            legendY += LegendRow;
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static void DrawPanel(SKCanvas canvas, float x0, string title, IReadOnlyList<Series> series, List<string> names, Axes a, SKPaint text)
    {
        float plotW = PanelWidth - Left - Right, plotH = Height - Top - Bottom, left = x0 + Left;
        float Px(double x) => left + (float)((x - a.XMin) / (a.XMax - a.XMin == 0 ? 1 : a.XMax - a.XMin)) * plotW;
        float Py(double y) => Top + plotH - (float)((y - a.YMin) / (a.YMax - a.YMin == 0 ? 1 : a.YMax - a.YMin)) * plotH;

        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, IsAntialias = true };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var titleText = new SKPaint { Color = SKColors.Black, TextSize = 18, IsAntialias = true, FakeBoldText = true };

        foreach (double x in a.XTicks)
        {
            canvas.DrawLine(Px(x), Top, Px(x), Top + plotH, grid);
            string label = a.XFormat(x);
            canvas.DrawText(label, Px(x) - text.MeasureText(label) / 2, Top + plotH + 20, text);
        }
        foreach (double y in a.YTicks)
        {
            canvas.DrawLine(left, Py(y), left + plotW, Py(y), grid);
            string label = a.YFormat(y);
            canvas.DrawText(label, left - 8 - text.MeasureText(label), Py(y) + 5, text);
        }
        canvas.DrawRect(left, Top, plotW, plotH, axis);
        canvas.DrawText(title, left + (plotW - titleText.MeasureText(title)) / 2, Top - 14, titleText);
        canvas.DrawText(a.XLabel, left + (plotW - text.MeasureText(a.XLabel)) / 2, Height - 16, text);
        canvas.Save();
        canvas.RotateDegrees(-90);
        canvas.DrawText(a.YLabel, -(Top + (plotH + text.MeasureText(a.YLabel)) / 2), x0 + 22, text);
        canvas.Restore();

        canvas.Save();
        canvas.ClipRect(new SKRect(left, Top, left + plotW, Top + plotH));
        foreach (var s in series)
        {
            if (s.X.Count == 0)
                continue;
            using var line = Pen(names.IndexOf(s.Name), 2);
            using var path = new SKPath();
            path.MoveTo(Px(s.X[0]), Py(s.Y[0]));
            for (int i = 1; i < s.X.Count; i++)
                path.LineTo(Px(s.X[i]), Py(s.Y[i]));
            canvas.DrawPath(path, line);
        }
        canvas.Restore();
    }
}

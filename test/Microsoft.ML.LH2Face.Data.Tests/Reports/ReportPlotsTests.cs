using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Reports;
using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Tests.Reports;

[TestClass]
public sealed class ReportPlotsTests
{
    private static ReportPlots.Series Line(string name, double tar) => new(name, new[] { -3.0, -2.0, -1.0, 0.0 }, new[] { tar, tar, tar, tar });

    [TestMethod]
    public void RocPanels_LegendStandsRightOfEveryPanel()
    {
        var series = Enumerable.Range(0, 3).Select(i => Line($"loss {i}", 0.3 + 0.2 * i)).ToList();
        var png = ReportPlots.RocPanels(new[] { ("hard-HQ", (IReadOnlyList<ReportPlots.Series>)series), ("LQ", series) });
        using var bitmap = SKBitmap.Decode(png);
        Assert.IsGreaterThan(2 * 640, bitmap.Width, "a legend column beyond the two 640 px panels");
        Assert.AreEqual(560, bitmap.Height);
        // The first series' colour (#1f77b4) appears in the legend column, right of both panels.
        bool swatch = false;
        for (int x = 2 * 640; x < bitmap.Width && !swatch; x++)
            for (int y = 0; y < 120 && !swatch; y++)
                swatch = bitmap.GetPixel(x, y) == new SKColor(0x1f, 0x77, 0xb4);
        Assert.IsTrue(swatch, "the legend swatch of the first series is right of the panels");
        // Inside each plot, the top-right corner (where the old legend stood) holds no text: only white, grid and the curves.
        var allowed = new HashSet<SKColor> { SKColors.White, new SKColor(0xe0, 0xe0, 0xe0) };
        for (int panel = 0; panel < 2; panel++)
            for (int x = panel * 640 + 460; x < panel * 640 + 610; x++)
                for (int y = 60; y < 100; y++)
                    Assert.IsTrue(allowed.Contains(bitmap.GetPixel(x, y)), $"pixel ({x}, {y}) of panel {panel} is {bitmap.GetPixel(x, y)}");
    }

    [TestMethod]
    public void RocPanels_ThirteenSeries_TwelveColoursThenADashedRepeat()
    {
        Assert.AreEqual(12, ReportPlots.ColourCount);
        var series = Enumerable.Range(0, 13).Select(i => Line($"s{i}", 0.05 + 0.07 * i)).ToList();
        var png = ReportPlots.RocPanels(new[] { ("all", (IReadOnlyList<ReportPlots.Series>)series) });
        using var bitmap = SKBitmap.Decode(png);
        // Each curve is a flat line at its TAR: read its colour in the middle of the plot.
        var colours = new List<SKColor>();
        float plotTop = 44, plotHeight = 560 - 44 - 64;
        foreach (var s in series)
        {
            int y = (int)Math.Round(plotTop + plotHeight - s.Y[0] / 1.02 * plotHeight);
            colours.Add(Enumerable.Range(y - 1, 3).Select(yy => bitmap.GetPixel(320, yy)).First(c => c != SKColors.White && c != new SKColor(0xe0, 0xe0, 0xe0)));
        }
        Assert.AreEqual(12, colours.Take(12).Distinct().Count(), "twelve distinct colours");
        Assert.AreEqual(colours[0].Red, colours[12].Red, 40, "the 13th series reuses the first colour (dashed)");
    }

    [TestMethod]
    public void Bars_HeightsAreProportionalToTheValuesInTheSeriesColours()
    {
        var png = ReportPlots.Bars("TAR", "percent", new[] { new ReportPlots.Bar("ArcFace", 20, 2), new ReportPlots.Bar("LH2Face", 40, 0) });
        using var bitmap = SKBitmap.Decode(png);
        Assert.AreEqual(560, bitmap.Height);
        Assert.AreEqual((int)Math.Ceiling(80 + 2 * 110 + 20.0), bitmap.Width);
        // Highest top 42 -> step 10 -> axis to 50. Bar tops: y = 44 + 452 * (1 - v / 50).
        var blue = new SKColor(0x1f, 0x77, 0xb4);
        var red = new SKColor(0xd6, 0x27, 0x28);
        int Top(int x, SKColor colour) => Enumerable.Range(0, 560).First(y => bitmap.GetPixel(x, y) == colour);
        // Left of each bar's whisker (the centre column carries it).
        Assert.AreEqual(44 + 452 * (1 - 20 / 50.0), Top(80 + 55 - 20, blue), 1.5);
        Assert.AreEqual(44 + 452 * (1 - 40 / 50.0), Top(80 + 165 - 20, red), 1.5);
        Assert.AreEqual(red, bitmap.GetPixel(80 + 165 - 20, 44 + 452 - 3), "the bar reaches the axis at 0");
        // The whisker of the first bar stands above its top (20 + 2 = 22): black pixels on the centre column.
        int whiskerTop = (int)Math.Round(44 + 452 * (1 - 22 / 50.0));
        var c = bitmap.GetPixel(80 + 55, whiskerTop + 2);
        Assert.IsTrue(c.Red < 90 && c.Green < 90 && c.Blue < 90, $"whisker pixel is {c}");
    }

    [TestMethod]
    public void Bars_NegativeOrNonFiniteValue_NamesTheBar()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => ReportPlots.Bars("t", "v", new[] { new ReportPlots.Bar("MagFace", double.NaN) }));
        StringAssert.Contains(e.Message, "MagFace");
        Assert.ThrowsExactly<ArgumentException>(() => ReportPlots.Bars("t", "v", new[] { new ReportPlots.Bar("x", -1) }));
        Assert.ThrowsExactly<ArgumentException>(() => ReportPlots.Bars("t", "v", Array.Empty<ReportPlots.Bar>()));
    }

    [TestMethod]
    public void Roc_OneResult_IsAPng()
    {
        var result = VerificationMetrics.Evaluate(new float[] { 0.9f, 0.8f, 0.3f, 0.1f }, new[] { true, true, false, false });
        var png = ReportPlots.Roc(new[] { KeyValuePair.Create("model", result) });
        CollectionAssert.AreEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png.Take(4).ToArray());
    }
}

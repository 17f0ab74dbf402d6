using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>
/// Writes an <see cref="EvaluationReport"/> as markdown tables with PNG plots (ROC on a log10 FAR axis,
/// genuine/impostor score histograms) and a JSON file of every number. Each file is written to a
/// temporary file in the target folder and then moved over the final name, so a reader never sees a
/// half-written report.
/// </summary>
public static class EvaluationReportWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Writes the report into <paramref name="directory"/> (created if missing).</summary>
    /// <param name="report">The report.</param>
    /// <param name="directory">Output folder.</param>
    /// <param name="baseName">File name stem: baseName.md, baseName.json, baseName-*.png.</param>
    public static ReportFiles Write(EvaluationReport report, string directory, string baseName = "report")
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseName);
        if (baseName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"baseName '{baseName}' contains characters not allowed in a file name: use letters, digits, '-' or '_'.", nameof(baseName));
        Directory.CreateDirectory(directory);

        var plots = new List<string>();
        var md = new StringBuilder();
        md.Append("# ").AppendLine(report.Title).AppendLine();

        if (report.Verification.Count > 0)
        {
            var fars = report.Verification.SelectMany(v => v.Value.TarAtFar.Select(t => t.TargetFar)).Distinct().Order().ToArray();
            md.AppendLine("## 1:1 verification").AppendLine();
            md.Append("| set | genuine | impostor | EER (%) | best acc. (%) | best threshold |");
            foreach (double far in fars)
                md.Append(Invariant, $" TAR@FAR={far:0e0} (%) |");
            md.AppendLine();
            md.Append("|---|---:|---:|---:|---:|---:|").Append(string.Concat(fars.Select(_ => "---:|"))).AppendLine();
            bool anyBelow = false;
            foreach (var (name, r) in report.Verification)
            {
                md.Append(Invariant, $"| {Escape(name)} | {r.GenuineCount} | {r.ImpostorCount} | {Percent(r.Eer)} | {Percent(r.BestAccuracy)} | {r.BestThreshold.ToString("0.####", Invariant)} |");
                foreach (double far in fars)
                {
                    var t = r.TarAtFar.FirstOrDefault(x => x.TargetFar == far);
                    anyBelow |= t?.IsBelowResolution == true;
                    md.Append(' ').Append(t is null ? "-" : Percent(t.Tar) + (t.IsBelowResolution ? "*" : "")).Append(" |");
                }
                md.AppendLine();
            }
            if (anyBelow)
                md.AppendLine().AppendLine("\\* target FAR below 1 / #impostors: TAR read at the nearest achievable ROC point.");
            md.AppendLine();

            string rocName = $"{baseName}-roc.png";
            WriteAtomically(Path.Combine(directory, rocName), ReportPlots.Roc(report.Verification));
            plots.Add(Path.Combine(directory, rocName));
            md.Append("![ROC](").Append(rocName).AppendLine(")").AppendLine();
            int index = 0;
            foreach (var (name, r) in report.Verification)
            {
                string file = $"{baseName}-hist-{index++}-{Slug(name)}.png";
                WriteAtomically(Path.Combine(directory, file), ReportPlots.Histogram(name, r.Histogram));
                plots.Add(Path.Combine(directory, file));
                md.Append("![").Append(Escape(name)).Append(" scores](").Append(file).AppendLine(")").AppendLine();
            }
        }

        if (report.TenFold.Count > 0)
        {
            md.AppendLine("## 10-fold accuracy").AppendLine();
            if (report.TenFold.Any(v => v.Value.FoldAccuracies.Count != 10))
                md.AppendLine("A set with fewer than 10 pairs is scored with one fold per pair (the folds column); its figures are not comparable with 10-fold ones.").AppendLine();
            md.AppendLine("| set | folds | accuracy (%) | threshold | VAL (%) | FAR (%) |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, r) in report.TenFold)
            {
                md.Append(Invariant, $"| {Escape(name)} | {r.FoldAccuracies.Count} | {Percent(r.AccuracyMean)} ± {Percent(r.AccuracyStd)} | {r.ThresholdMean:0.###} | ");
                md.Append(Invariant, $"{Percent(r.ValMean)} ± {Percent(r.ValStd)} @FAR={r.ValTargetFar:0e0} | {Percent(r.FarMean)} |").AppendLine();
            }
            md.AppendLine();
        }

        if (report.Identification.Count > 0)
        {
            var fpirs = report.Identification.SelectMany(v => v.Value.TpirAtFpir.Select(t => t.TargetFpir)).Distinct().Order().ToArray();
            md.AppendLine("## 1:N identification").AppendLine();
            md.Append("| set | mated probes | non-mated probes | rank-1 (%) | rank-5 (%) |");
            foreach (double f in fpirs)
                md.Append(Invariant, $" TPIR@FPIR={f:0e0} (%) |");
            md.AppendLine();
            md.Append("|---|---:|---:|---:|---:|").Append(string.Concat(fpirs.Select(_ => "---:|"))).AppendLine();
            foreach (var (name, r) in report.Identification)
            {
                md.Append(Invariant, $"| {Escape(name)} | {r.MatedProbeCount} | {r.NonMatedProbeCount} | {Percent(r.Rank1)} | {Percent(r.Rank5)} |");
                foreach (double f in fpirs)
                {
                    var t = r.TpirAtFpir.FirstOrDefault(x => x.TargetFpir == f);
                    md.Append(' ').Append(t is null ? "-" : Percent(t.Tpir) + (t.IsBelowResolution ? "*" : "")).Append(" |");
                }
                md.AppendLine();
            }
            md.AppendLine();
        }

        if (report.ImageFidelity.Count > 0)
        {
            md.AppendLine("## Rendered images against ground truth").AppendLine();
            md.AppendLine("| images | count | mean PSNR (dB) | median PSNR (dB) |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var (name, r) in report.ImageFidelity)
                md.Append(Invariant, $"| {Escape(name)} | {r.Images} | {r.MeanPsnr:0.00} | {r.MedianPsnr:0.00} |").AppendLine();
            md.AppendLine();
        }

        string markdownPath = Path.Combine(directory, baseName + ".md");
        string jsonPath = Path.Combine(directory, baseName + ".json");
        WriteAtomically(markdownPath, Encoding.UTF8.GetBytes(md.ToString()));
        WriteAtomically(jsonPath, Encoding.UTF8.GetBytes(ToJson(report).ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
        return new ReportFiles(markdownPath, jsonPath, plots);
    }

    /// <summary>All numbers of the report as a JSON tree (NaN written as null).</summary>
    /// <param name="report">The report.</param>
    public static JsonObject ToJson(EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var verification = new JsonArray();
        foreach (var (name, r) in report.Verification)
        {
            verification.Add(new JsonObject
            {
                ["name"] = name,
                ["genuine"] = r.GenuineCount,
                ["impostor"] = r.ImpostorCount,
                ["eer"] = Num(r.Eer),
                ["eerThreshold"] = Num(r.EerThreshold),
                ["bestAccuracy"] = Num(r.BestAccuracy),
                ["bestThreshold"] = Num(r.BestThreshold),
                ["tarAtFar"] = new JsonArray(r.TarAtFar.Select(t => (JsonNode)new JsonObject
                {
                    ["targetFar"] = t.TargetFar,
                    ["tar"] = Num(t.Tar),
                    ["far"] = Num(t.Far),
                    ["threshold"] = Num(t.Threshold),
                    ["belowResolution"] = t.IsBelowResolution,
                }).ToArray()),
                ["roc"] = new JsonArray(RocSampler.Sample(r.Roc).Select(p => (JsonNode)new JsonArray(Num(p.Far), Num(p.Tar), Num(p.Threshold))).ToArray()),
                ["histogram"] = new JsonObject
                {
                    ["minimum"] = Num(r.Histogram.Minimum),
                    ["binWidth"] = Num(r.Histogram.BinWidth),
                    ["genuine"] = new JsonArray(r.Histogram.Genuine.Select(c => (JsonNode?)c).ToArray()),
                    ["impostor"] = new JsonArray(r.Histogram.Impostor.Select(c => (JsonNode?)c).ToArray()),
                },
            });
        }
        var tenFold = new JsonArray();
        foreach (var (name, r) in report.TenFold)
        {
            tenFold.Add(new JsonObject
            {
                ["name"] = name,
                ["folds"] = r.FoldAccuracies.Count,
                ["accuracyMean"] = Num(r.AccuracyMean),
                ["accuracyStd"] = Num(r.AccuracyStd),
                ["foldAccuracies"] = new JsonArray(r.FoldAccuracies.Select(Num).ToArray()),
                ["foldThresholds"] = new JsonArray(r.FoldThresholds.Select(Num).ToArray()),
                ["valMean"] = Num(r.ValMean),
                ["valStd"] = Num(r.ValStd),
                ["farMean"] = Num(r.FarMean),
                ["valTargetFar"] = r.ValTargetFar,
            });
        }
        var identification = new JsonArray();
        foreach (var (name, r) in report.Identification)
        {
            identification.Add(new JsonObject
            {
                ["name"] = name,
                ["matedProbes"] = r.MatedProbeCount,
                ["nonMatedProbes"] = r.NonMatedProbeCount,
                ["rank1"] = Num(r.Rank1),
                ["rank5"] = Num(r.Rank5),
                ["tpirAtFpir"] = new JsonArray(r.TpirAtFpir.Select(t => (JsonNode)new JsonObject
                {
                    ["targetFpir"] = t.TargetFpir,
                    ["tpir"] = Num(t.Tpir),
                    ["fpir"] = Num(t.Fpir),
                    ["threshold"] = Num(t.Threshold),
                    ["belowResolution"] = t.IsBelowResolution,
                }).ToArray()),
            });
        }
        var fidelity = new JsonArray(report.ImageFidelity.Select(f => (JsonNode)new JsonObject
        {
            ["name"] = f.Key,
            ["images"] = f.Value.Images,
            ["meanPsnr"] = Num(f.Value.MeanPsnr),
            ["medianPsnr"] = Num(f.Value.MedianPsnr),
        }).ToArray());
        return new JsonObject
        {
            ["title"] = report.Title,
            ["verification"] = verification,
            ["tenFold"] = tenFold,
            ["identification"] = identification,
            ["imageFidelity"] = fidelity,
        };
    }

    private static JsonNode? Num(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string Percent(double value) => double.IsNaN(value) ? "n/a" : (100 * value).ToString("0.00", Invariant);

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Slug(string name)
    {
        var sb = new StringBuilder();
        foreach (char c in name.ToLowerInvariant())
            sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        return sb.ToString().Trim('-');
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.WriteAllBytes(temp, content);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}

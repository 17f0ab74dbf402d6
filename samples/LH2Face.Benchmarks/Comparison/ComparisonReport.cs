using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Reports;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace LH2Face.Benchmarks.Comparison;

/// <summary>A mean and sample standard deviation over training seeds, with the values.</summary>
internal sealed record SeedStatistic(double Mean, double Sd, double[] Values)
{
    public static SeedStatistic Of(IEnumerable<double> values)
    {
        var v = values.ToArray();
        return new SeedStatistic(v.Average(), PairedBootstrap.StandardDeviation(v), v);
    }
}

/// <summary>One stratum of one variant: each metric over seeds, and its bootstrap difference to the baseline (null for the baseline).</summary>
internal sealed record StratumSummary(
    string Stratum, int Genuine, int Impostor,
    SeedStatistic Eer, SeedStatistic Tar1e3, SeedStatistic Tar1e2, SeedStatistic Tar1e1,
    BootstrapDifference? DeltaEer, BootstrapDifference? DeltaTar1e3, BootstrapDifference? DeltaTar1e2, BootstrapDifference? DeltaTar1e1);

/// <summary>How the Quality column ranks images: AUC of HQ over LQ, Spearman with minus the degradation severity (all images, LQ only).</summary>
internal sealed record QualitySummary(SeedStatistic AucHqOverLq, SeedStatistic SpearmanAll, SeedStatistic SpearmanWithinLq, SeedStatistic MeanHq, SeedStatistic MeanLq);

internal sealed record VariantSummary(string Name, string Spec, int[] Seeds, IReadOnlyList<StratumSummary> Strata, QualitySummary Quality,
    SeedStatistic TrainMinutes, SeedStatistic LastEpochKappa, SeedStatistic LastEpochMargin, SeedStatistic FinalLoss);

/// <summary>The aggregated comparison: per variant and stratum, metrics over seeds and paired-bootstrap differences to the baseline.</summary>
internal sealed class ComparisonReport
{
    private static readonly string[] StrataOrder = [nameof(SynthFaceStratum.HardHQ), nameof(SynthFaceStratum.EasyHQ), nameof(SynthFaceStratum.LQ)];
    private static readonly double[] Fars = [1e-3, 1e-2, 1e-1];

    public required string Data { get; init; }

    public required string Budget { get; init; }

    public required string Baseline { get; init; }

    public required int BootstrapReplicates { get; init; }

    public required IReadOnlyList<VariantSummary> Variants { get; init; }

    public required IReadOnlyList<string> Missing { get; init; }

    public static ComparisonReport Build(ComparisonPlan plan, ComparisonData data, IReadOnlyDictionary<string, List<ComparisonRunResult>> runs, IReadOnlyList<string> missing)
    {
        var baseline = runs[plan.Baseline];
        var summaries = new List<VariantSummary>();
        foreach (var variant in plan.ParsedVariants())
        {
            if (!runs.TryGetValue(variant.Name, out var results) || results.Count == 0)
                continue;
            var strata = new List<StratumSummary>();
            foreach (var stratum in StrataOrder)
            {
                var rows = Enumerable.Range(0, data.Strata.Length).Where(i => data.Strata[i] == stratum).ToArray();
                var labels = rows.Select(i => data.IsGenuine[i]).ToArray();
                float[] Slice(ComparisonRunResult r) => rows.Select(i => r.Scores[i]).ToArray();
                var perSeed = results.Select(r => VerificationMetrics.Evaluate(Slice(r), labels, Fars)).ToList();
                double Tar(VerificationResult v, double far) => v.TarAtFar.Single(t => t.TargetFar == far).Tar;
                IReadOnlyList<BootstrapDifference>? deltas = null;
                if (variant.Name != plan.Baseline)
                {
                    deltas = PairedBootstrap.Differences(results.Select(Slice).ToList(), baseline.Select(Slice).ToList(), labels,
                        [PairedBootstrap.Eer, PairedBootstrap.TarAt(1e-3), PairedBootstrap.TarAt(1e-2), PairedBootstrap.TarAt(1e-1)],
                        plan.BootstrapReplicates, seed: 20261202);
                }
                strata.Add(new StratumSummary(stratum, labels.Count(l => l), labels.Count(l => !l),
                    SeedStatistic.Of(perSeed.Select(v => v.Eer)), SeedStatistic.Of(perSeed.Select(v => Tar(v, 1e-3))),
                    SeedStatistic.Of(perSeed.Select(v => Tar(v, 1e-2))), SeedStatistic.Of(perSeed.Select(v => Tar(v, 1e-1))),
                    deltas?[0], deltas?[1], deltas?[2], deltas?[3]));
            }
            summaries.Add(new VariantSummary(variant.Name, variant.Spec, results.Select(r => r.Seed).ToArray(), strata, Quality(data, results),
                SeedStatistic.Of(results.Select(r => r.TrainSeconds / 60)), SeedStatistic.Of(results.Select(r => r.LastEpochMeanKappa)),
                SeedStatistic.Of(results.Select(r => r.LastEpochMeanMargin)), SeedStatistic.Of(results.Select(r => r.EpochLosses.Length == 0 ? double.NaN : r.EpochLosses[^1]))));
        }
        var first = plan.Options(plan.ParsedVariants()[0], plan.Seeds[0]);
        return new ComparisonReport
        {
            Data = data.Describe(),
            Budget = string.Create(CultureInfo.InvariantCulture,
                $"{first.Backbone} at {first.InputSize} px, {first.EmbeddingSize}-d, batch {first.BatchSize}, {first.Epochs} epochs, {first.Optimizer} lr {first.LearningRate}, " +
                $"{plan.Threads} torch thread(s) per run; common settings {string.Join(", ", plan.Common.Select(c => $"{c.Key}={c.Value}"))}; seeds {string.Join(", ", plan.Seeds)}"),
            Baseline = plan.Baseline,
            BootstrapReplicates = plan.BootstrapReplicates,
            Variants = summaries,
            Missing = missing,
        };
    }

    private static QualitySummary Quality(ComparisonData data, List<ComparisonRunResult> results)
    {
        var hq = data.ImageFactors.Select(f => f.Quality == SynthFaceQuality.HQ).ToArray();
        var minusSeverity = data.ImageFactors.Select(f => -f.Degradation.Severity).ToArray();
        var lq = Enumerable.Range(0, hq.Length).Where(i => !hq[i]).ToArray();
        return new QualitySummary(
            SeedStatistic.Of(results.Select(r => QualityRanking.Auc(r.Qualities, hq))),
            SeedStatistic.Of(results.Select(r => QualityRanking.Spearman(r.Qualities.Select(q => (double)q).ToArray(), minusSeverity))),
            SeedStatistic.Of(results.Select(r => QualityRanking.Spearman(lq.Select(i => (double)r.Qualities[i]).ToArray(), lq.Select(i => minusSeverity[i]).ToArray()))),
            SeedStatistic.Of(results.Select(r => Enumerable.Range(0, hq.Length).Where(i => hq[i]).Average(i => (double)r.Qualities[i]))),
            SeedStatistic.Of(results.Select(r => lq.Average(i => (double)r.Qualities[i]))));
    }

    /// <summary>ROC panels per stratum, each variant's TAR averaged over its seeds at each FAR (log grid, 20 points per decade).</summary>
    public static byte[] RocPlot(ComparisonPlan plan, ComparisonData data, IReadOnlyDictionary<string, List<ComparisonRunResult>> runs)
    {
        var panels = new List<(string, IReadOnlyList<ReportPlots.Series>)>();
        foreach (var stratum in StrataOrder)
        {
            var rows = Enumerable.Range(0, data.Strata.Length).Where(i => data.Strata[i] == stratum).ToArray();
            var labels = rows.Select(i => data.IsGenuine[i]).ToArray();
            int impostors = labels.Count(l => !l);
            double low = Math.Log10(1.0 / impostors);
            var grid = Enumerable.Range(0, (int)Math.Floor(-low * 20) + 1).Select(k => low + k / 20.0).ToArray();
            var series = new List<ReportPlots.Series>();
            foreach (var variant in plan.ParsedVariants())
            {
                if (!runs.TryGetValue(variant.Name, out var results) || results.Count == 0)
                    continue;
                var tar = new double[grid.Length];
                foreach (var r in results)
                {
                    var roc = RocCurve.Compute(rows.Select(i => r.Scores[i]).ToArray(), labels);
                    for (int g = 0; g < grid.Length; g++)
                        tar[g] += roc.TrueAcceptRate(roc.NearestIndex(Math.Pow(10, grid[g]))) / results.Count;
                }
                series.Add(new ReportPlots.Series(variant.Name, grid, tar));
            }
            panels.Add(($"{stratum} ({labels.Count(l => l)} genuine / {impostors} impostor)", series));
        }
        return ReportPlots.RocPanels(panels);
    }

    private static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    private static string MeanSd(SeedStatistic s, bool percent = true, string format = "F1")
        => s.Values.Length < 2
            ? (percent ? Pct(s.Mean) : s.Mean.ToString(format, CultureInfo.InvariantCulture))
            : percent ? $"{Pct(s.Mean)} ± {Pct(s.Sd)}" : $"{s.Mean.ToString(format, CultureInfo.InvariantCulture)} ± {s.Sd.ToString(format, CultureInfo.InvariantCulture)}";

    private static string Delta(BootstrapDifference? d)
        => d is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{(d.Difference >= 0 ? "+" : "")}{100 * d.Difference:F1} ({100 * d.StandardDeviation:F1})");

    public string ToMarkdown(string command)
    {
        var md = new StringBuilder();
        md.AppendLine("# Loss comparison on SynthFace").AppendLine();
        md.AppendLine($"- Data: {Data}.");
        md.AppendLine($"- Budget (the same for every loss): {Budget}.");
        md.AppendLine($"- Cells: mean ± sd over the training seeds; Δ = loss minus {Baseline}, seed means, with the paired-bootstrap sd over the test pairs in brackets ({BootstrapReplicates} replicates; genuine and impostor pairs redrawn separately, the same pairs for every loss). All in percentage points.");
        md.AppendLine($"- Command: `{command}`");
        if (Missing.Count > 0)
            md.AppendLine($"- MISSING runs (failed or not run): {string.Join(", ", Missing)}.");
        md.AppendLine();
        foreach (var stratum in StrataOrder)
        {
            var any = Variants.SelectMany(v => v.Strata).FirstOrDefault(s => s.Stratum == stratum);
            if (any is null)
                continue;
            md.AppendLine($"## {stratum} ({any.Genuine} genuine / {any.Impostor} impostor pairs)").AppendLine();
            md.AppendLine($"| loss | EER | TAR@1e-3 | TAR@1e-2 | TAR@1e-1 | ΔEER | ΔTAR@1e-3 | ΔTAR@1e-2 | ΔTAR@1e-1 |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var v in Variants)
            {
                var s = v.Strata.Single(x => x.Stratum == stratum);
                md.AppendLine($"| {v.Name} | {MeanSd(s.Eer)} | {MeanSd(s.Tar1e3)} | {MeanSd(s.Tar1e2)} | {MeanSd(s.Tar1e1)} | {Delta(s.DeltaEer)} | {Delta(s.DeltaTar1e3)} | {Delta(s.DeltaTar1e2)} | {Delta(s.DeltaTar1e1)} |");
            }
            md.AppendLine();
        }
        md.AppendLine("## Quality (the Quality column, kappa = ||z||)").AppendLine();
        md.AppendLine("AUC: probability that a random HQ test image has a higher Quality than a random LQ one (0.5 = chance). Spearman: rank correlation of Quality with minus the degradation severity (SynthFaceDegradation.Severity; 0 for HQ), over all scored images and within LQ only.").AppendLine();
        md.AppendLine("| loss | AUC HQ > LQ | Spearman (all) | Spearman (LQ only) | mean Quality HQ | mean Quality LQ | kappa, last epoch | margin (logits), last epoch | final loss | train min |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var v in Variants)
        {
            var q = v.Quality;
            md.AppendLine($"| {v.Name} | {MeanSd(q.AucHqOverLq, false, "F3")} | {MeanSd(q.SpearmanAll, false, "F3")} | {MeanSd(q.SpearmanWithinLq, false, "F3")} | {MeanSd(q.MeanHq, false, "F2")} | {MeanSd(q.MeanLq, false, "F2")} | " +
                $"{MeanSd(v.LastEpochKappa, false, "F1")} | {MeanSd(v.LastEpochMargin, false, "F2")} | {MeanSd(v.FinalLoss, false, "F3")} | {MeanSd(v.TrainMinutes, false, "F1")} |");
        }
        md.AppendLine().AppendLine("## Variants").AppendLine();
        foreach (var v in Variants)
            md.AppendLine($"- `{v.Spec}` (seeds {string.Join(", ", v.Seeds)})");
        md.AppendLine().AppendLine("## Hard-HQ per seed").AppendLine();
        md.AppendLine("| loss | seed | EER | TAR@1e-3 | TAR@1e-2 | TAR@1e-1 |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var v in Variants)
        {
            var s = v.Strata.Single(x => x.Stratum == nameof(SynthFaceStratum.HardHQ));
            for (int k = 0; k < v.Seeds.Length; k++)
                md.AppendLine($"| {v.Name} | {v.Seeds[k]} | {Pct(s.Eer.Values[k])} | {Pct(s.Tar1e3.Values[k])} | {Pct(s.Tar1e2.Values[k])} | {Pct(s.Tar1e1.Values[k])} |");
        }
        md.AppendLine().AppendLine("![ROC per stratum, TAR averaged over seeds](roc.png)");
        return md.ToString();
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

using System.Text.Json;
using Microsoft.ML.LH2Face.Data.Evaluation;
using Microsoft.ML.LH2Face.Data.Reports;

namespace Microsoft.ML.LH2Face.Data.Tests.Reports;

[TestClass]
public sealed class EvaluationReportWriterTests
{
    private static readonly byte[] PngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    [TestMethod]
    public void Write_AllSections_MarkdownTablesPngsAndJsonRoundTrip()
    {
        float[] scores = { 0.4f, 0.9f, 0.6f, 0.7f, 0.5f, 0.8f };
        bool[] labels = { false, true, false, true, true, false };
        var verification = VerificationMetrics.Evaluate(scores, labels);
        var tenFold = TenFoldVerification.EvaluateDistances(
            Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? 0.5 : 2.5).ToArray(),
            Enumerable.Range(0, 20).Select(i => i % 2 == 0).ToArray());
        var identification = IdentificationMetrics.Evaluate(
            new[] { new[] { 1f, 0f }, new[] { 0f, 1f } }, new[] { 1, 2 },
            new[] { new[] { 1f, 0.1f }, new[] { 0.1f, 1f }, new[] { 1f, 1f } }, new[] { 1, 2, 5 });
        var report = new EvaluationReport("Test | report")
            .AddVerification("IJB-B", verification)
            .AddStrata("Synth", StratifiedVerification.Evaluate(scores, labels, new[] { "LQ", "LQ", "HQ", "HQ", "LQ", "HQ" }))
            .AddTenFold("LFW", tenFold)
            .AddIdentification("IJB-C 1:N", identification);

        string dir = Directory.CreateTempSubdirectory("lh2face-report-").FullName;
        try
        {
            var files = EvaluationReportWriter.Write(report, dir);

            string md = File.ReadAllText(files.Markdown);
            StringAssert.Contains(md, "# Test | report");
            StringAssert.Contains(md, "| IJB-B | 3 | 3 | 33.33 | 66.67 | 0.9 | 33.33* | 33.33* | 33.33* | 33.33* | 33.33* | 33.33* |");
            StringAssert.Contains(md, "| Synth / HQ |");
            StringAssert.Contains(md, "| LFW | 10 | 100.00 ± 0.00 | 0.51 | 100.00 ± 0.00 @FAR=1e-3 | 100.00 |");
            StringAssert.Contains(md, "| IJB-C 1:N | 2 | 1 | 100.00 | 100.00 |");
            StringAssert.Contains(md, "![ROC](report-roc.png)");

            Assert.AreEqual(4, files.Plots.Count, "one ROC plus a histogram per verification result");
            foreach (string png in files.Plots)
            {
                var bytes = File.ReadAllBytes(png);
                CollectionAssert.AreEqual(PngSignature, bytes.Take(8).ToArray(), png);
                StringAssert.Contains(md, Path.GetFileName(png));
            }

            using var json = JsonDocument.Parse(File.ReadAllText(files.Json));
            var v = json.RootElement.GetProperty("verification");
            Assert.AreEqual(3, v.GetArrayLength());
            Assert.AreEqual("IJB-B", v[0].GetProperty("name").GetString());
            Assert.AreEqual(1.0 / 3, v[0].GetProperty("eer").GetDouble(), 1e-12);
            Assert.AreEqual(6, v[0].GetProperty("tarAtFar").GetArrayLength());
            Assert.IsTrue(v[0].GetProperty("tarAtFar")[0].GetProperty("belowResolution").GetBoolean());
            Assert.AreEqual(1.0, json.RootElement.GetProperty("tenFold")[0].GetProperty("accuracyMean").GetDouble());
            Assert.AreEqual(1, json.RootElement.GetProperty("identification")[0].GetProperty("nonMatedProbes").GetInt32());
            Assert.AreEqual(0, Directory.GetFiles(dir, "*.tmp").Length, "no temporary file left");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void AddVerification_DuplicateName_Throws()
    {
        var r = VerificationMetrics.Evaluate(new[] { 0.9f, 0.1f }, new[] { true, false });
        var report = new EvaluationReport("t").AddVerification("a", r);
        var e = Assert.ThrowsExactly<ArgumentException>(() => report.AddVerification("a", r));
        StringAssert.Contains(e.Message, "'a'");
    }

    [TestMethod]
    public void Write_ImageFidelity_MarkdownRowAndJsonValues()
    {
        var report = new EvaluationReport("t").AddImageFidelity("canonical / all", new ImageFidelityResult(3, 21.456, 20.5));
        string dir = Directory.CreateTempSubdirectory("lh2face-report-").FullName;
        try
        {
            var files = EvaluationReportWriter.Write(report, dir);
            StringAssert.Contains(File.ReadAllText(files.Markdown), "| canonical / all | 3 | 21.46 | 20.50 |");
            using var json = JsonDocument.Parse(File.ReadAllText(files.Json));
            var row = json.RootElement.GetProperty("imageFidelity")[0];
            Assert.AreEqual("canonical / all", row.GetProperty("name").GetString());
            Assert.AreEqual(3, row.GetProperty("images").GetInt32());
            Assert.AreEqual(21.456, row.GetProperty("meanPsnr").GetDouble(), 1e-12);
            Assert.AreEqual(20.5, row.GetProperty("medianPsnr").GetDouble(), 1e-12);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Reports;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace LH2Face.Cli.Tests;

/// <summary>'lh2face train --renderer' writes a montage; 'evaluate --protocol SynthFace' scores the canonical faces.</summary>
[TestClass]
[TestCategory("Renderer")]
public sealed class RendererCommandTests
{
    private string root = "";

    [TestInitialize]
    public void CreateFolder() => root = Directory.CreateTempSubdirectory("lh2face-cli-renderer-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    [TestMethod]
    public void TrainWithRenderer_TinyFolder_WritesMontage_AndEvaluateReportsCanonicalPsnr()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 4, samples: 6, size: 40);
        var model = Path.Combine(root, "model.zip");
        var output = new StringWriter();
        int code = CliApp.Run(
            ["train", "--data", data, "--out", model, "--input-size", "32", "--embedding-size", "16", "--epochs", "2", "--batch-size", "8",
             "--device", "Cpu", "--renderer", "--renderer-resolution", "16", "--renderer-lr", "0.002", "--renderer-fov", "20",
             "--log", Path.Combine(root, "train.log")],
            FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());

        // The log has the settings (with the renderer options given) and one line per epoch with the renderer's terms.
        var log = File.ReadAllLines(Path.Combine(root, "train.log"));
        Assert.IsTrue(log.Any(l => l.Contains("Renderer on: 16px, field of view 20 degrees", StringComparison.Ordinal) && l.Contains("Adam lr 0.002", StringComparison.Ordinal)),
            string.Join("\n", log));
        var epochs = log.Where(l => l.Contains(" Epoch ", StringComparison.Ordinal)).ToList();
        Assert.HasCount(2, epochs, string.Join("\n", log));
        Assert.IsTrue(epochs.All(l => l.Contains("reconstruction ", StringComparison.Ordinal) && l.Contains("canonical_recognition ", StringComparison.Ordinal)));

        // Default path beside the model; 4 identities -> 4 rows; tiles at max(input 32, renderer 16).
        var montage = Path.Combine(root, "model.montage.png");
        StringAssert.Contains(output.ToString(), "Montage");
        Assert.AreEqual(0, Directory.GetFiles(root, "*.tmp").Length, "no temporary files left");
        using (var png = MLImage.CreateFromFile(montage))
        {
            const int tile = 32;
            Assert.AreEqual(ImageMontage.Size(4, RendererMontage.Titles.Length, tile), (png.Width, png.Height));
            var pixels = png.Pixels;
            for (int c = 0; c < RendererMontage.Titles.Length; c++)
            {
                // Input and depth (stretched per tile) vary inside every tile. After 6 steps the renderer's images are still
                // nearly flat (its output layers start small), so one tile may quantise to a single colour: the column as a
                // whole must vary.
                bool perTile = c is 0 or 3;
                var column = new HashSet<int>();
                for (int r = 0; r < 4; r++)
                {
                    int x0 = ImageMontage.Gap + c * (tile + ImageMontage.Gap), y0 = ImageMontage.TitleHeight + r * (tile + ImageMontage.Gap);
                    var colours = new HashSet<int>();
                    for (int y = y0; y < y0 + tile; y++)
                        for (int x = x0; x < x0 + tile; x++)
                        {
                            int o = 4 * (y * png.Width + x);
                            colours.Add(pixels[o] << 16 | pixels[o + 1] << 8 | pixels[o + 2]);
                        }
                    if (perTile)
                        Assert.IsGreaterThan(1, colours.Count, $"tile {RendererMontage.Titles[c]} of row {r} is constant");
                    column.UnionWith(colours);
                }
                Assert.IsGreaterThan(1, column.Count, $"column {RendererMontage.Titles[c]} is one colour");
            }
        }

        var reportDir = Path.Combine(root, "report");
        var evalOut = new StringWriter();
        Assert.AreEqual(0, EvaluateCommand.Run(new EvaluateSettings
        {
            ModelPath = model, DataPath = "tiny", Protocol = EvaluationProtocol.SynthFace, OutputDirectory = reportDir, InputSize = 32,
        }, FaceFolder.Console(evalOut), CancellationToken.None), evalOut.ToString());
        StringAssert.Contains(evalOut.ToString(), "Canonical face vs ground-truth frontal render at 16px: mean PSNR");
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(reportDir, "report.json")))!;
        var fidelity = report["imageFidelity"]!.AsArray();
        var protocol = SynthFaceProtocol.Create(EvaluateCommand.SynthFacePreset("tiny"));
        int testImages = protocol.Pairs.SelectMany(p => new[] { (p.IdentityA, p.SampleA), (p.IdentityB, p.SampleB) })
            .Concat(protocol.Templates.SelectMany(t => t.Samples.Select(s => (t.Identity, s)))).Distinct().Count();
        var all = fidelity[0]!;
        Assert.AreEqual("SynthFace canonical face vs frontal truth (16px) / all", all["name"]!.GetValue<string>());
        Assert.AreEqual(testImages, all["images"]!.GetValue<int>());
        Assert.AreEqual(testImages, fidelity.Skip(1).Sum(f => f!["images"]!.GetValue<int>()), "the strata partition the images");
        double psnr = all["meanPsnr"]!.GetValue<double>();
        Assert.IsTrue(psnr is > 3 and < 40, $"mean PSNR {psnr} dB of a barely trained renderer");
        StringAssert.Contains(File.ReadAllText(Path.Combine(reportDir, "report.md")), "## Rendered images against ground truth");
    }

    [TestMethod]
    public void Train_MontageWithoutRenderer_FailsNamingTheFix()
    {
        var output = new StringWriter();
        int code = CliApp.Run(["train", "--data", root, "--out", Path.Combine(root, "m.zip"), "--montage", Path.Combine(root, "m.png")],
            FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output.ToString(), "--montage needs --renderer");
    }
}

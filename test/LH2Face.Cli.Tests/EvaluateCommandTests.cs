using System.Text.Json.Nodes;
using Microsoft.ML.LH2Face.Data;
using Microsoft.ML.LH2Face.Data.Formats;

namespace LH2Face.Cli.Tests;

[TestClass]
public sealed class EvaluateCommandTests
{
    private static string root = "";
    private static string data = "";
    private static string model = "";
    private static string onnx = "";
    private static List<string> images = new();

    [ClassInitialize]
    public static void TrainOnce(TestContext _)
    {
        root = Directory.CreateTempSubdirectory("lh2face-eval-tests-").FullName;
        data = Path.Combine(root, "faces");
        images = FaceFolder.Write(data, identities: 6, samples: 6, size: 40);
        model = Path.Combine(root, "model.zip");
        onnx = Path.Combine(root, "model.onnx");
        var output = new StringWriter();
        int code = CliApp.Run(
            ["train", "--data", data, "--out", model, "--input-size", "32", "--embedding-size", "16",
             "--epochs", "8", "--batch-size", "8", "--lr", "0.05", "--device", "Cpu", "--onnx", onnx],
            FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(root, recursive: true);

    private static JsonNode Evaluate(string modelPath, string dataPath, EvaluationProtocol protocol, string name)
    {
        var reportDir = Path.Combine(root, name);
        var output = new StringWriter();
        int code = EvaluateCommand.Run(new EvaluateSettings
        {
            ModelPath = modelPath, DataPath = dataPath, Protocol = protocol, OutputDirectory = reportDir, InputSize = 32,
        }, FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());
        StringAssert.Contains(File.ReadAllText(Path.Combine(reportDir, "report.md")), "TAR@FAR");
        return JsonNode.Parse(File.ReadAllText(Path.Combine(reportDir, "report.json")))!;
    }

    private static double Eer(JsonNode report) => report["verification"]!.AsArray()[0]!["eer"]!.GetValue<double>();

    [TestMethod]
    public void Evaluate_FolderOnModelZip_ReportsVerificationAndIdentification()
    {
        var report = Evaluate(model, data, EvaluationProtocol.Folder, "folder");
        Assert.IsTrue(Eer(report) < 0.25, $"EER {Eer(report)} on the training identities is well below chance");
        var identification = report["identification"]!.AsArray()[0]!;
        Assert.IsTrue(identification["rank1"]!.GetValue<double>() > 0.5, identification.ToJsonString());
    }

    [TestMethod]
    public void Evaluate_BinOnStandaloneOnnx_ReportsTenFoldAccuracy()
    {
        // 30 genuine and 30 impostor pairs of PNG bytes, pickled as insightface does (protocol 2).
        var pairs = new List<VerificationPair>();
        var byIdentity = images.GroupBy(p => Path.GetFileName(Path.GetDirectoryName(p)!)).Select(g => g.ToList()).ToList();
        for (int k = 0; k < 30; k++)
        {
            var a = byIdentity[k % 6];
            var b = byIdentity[(k + 1) % 6];
            pairs.Add(new VerificationPair(File.ReadAllBytes(a[k % 6]), File.ReadAllBytes(a[(k + 1) % 6]), true));
            pairs.Add(new VerificationPair(File.ReadAllBytes(a[k % 6]), File.ReadAllBytes(b[k % 6]), false));
        }
        var bin = Path.Combine(root, "pairs.bin");
        new VerificationPairs(pairs).Write(bin, protocol: 2);
        var report = Evaluate(onnx, bin, EvaluationProtocol.Bin, "bin");
        var tenFold = report["tenFold"]!.AsArray()[0]!;
        Assert.IsTrue(tenFold["accuracyMean"]!.GetValue<double>() > 0.75, tenFold.ToJsonString());
    }

    [TestMethod]
    public void Evaluate_BinWithFewerPairsThanFolds_ReportsOneFoldPerPairAndSaysSo()
    {
        // 2 genuine + 2 impostor pairs: the 10-fold protocol cannot split them, so each pair is a fold.
        var byIdentity = images.GroupBy(p => Path.GetFileName(Path.GetDirectoryName(p)!)).Select(g => g.ToList()).ToList();
        var pairs = new List<VerificationPair>
        {
            new(File.ReadAllBytes(byIdentity[0][0]), File.ReadAllBytes(byIdentity[0][1]), true),
            new(File.ReadAllBytes(byIdentity[0][2]), File.ReadAllBytes(byIdentity[1][2]), false),
            new(File.ReadAllBytes(byIdentity[2][0]), File.ReadAllBytes(byIdentity[2][1]), true),
            new(File.ReadAllBytes(byIdentity[2][2]), File.ReadAllBytes(byIdentity[3][2]), false),
        };
        var bin = Path.Combine(root, "four-pairs.bin");
        new VerificationPairs(pairs).Write(bin, protocol: 2);
        var report = Evaluate(onnx, bin, EvaluationProtocol.Bin, "four-pairs");
        var tenFold = report["tenFold"]!.AsArray()[0]!;
        Assert.AreEqual(4, tenFold["folds"]!.GetValue<int>());
        Assert.HasCount(4, tenFold["foldAccuracies"]!.AsArray());
        var md = File.ReadAllText(Path.Combine(root, "four-pairs", "report.md"));
        StringAssert.Contains(md, "fewer than 10 pairs is scored with one fold per pair");
        StringAssert.Contains(md, "| four-pairs | 4 |");

        var one = Path.Combine(root, "one-pair.bin");
        new VerificationPairs(pairs.Take(1).ToList()).Write(one, protocol: 2);
        var output = new StringWriter();
        int code = EvaluateCommand.Run(new EvaluateSettings
        {
            ModelPath = onnx, DataPath = one, Protocol = EvaluationProtocol.Bin, OutputDirectory = Path.Combine(root, "one-pair"), InputSize = 32,
        }, FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output.ToString(), "one-pair.bin' holds 1 pair(s): the verification protocol needs at least 2 pairs");
        Assert.IsFalse(Directory.Exists(Path.Combine(root, "one-pair")), "a failed evaluate leaves no --out folder it created");
    }

    [TestMethod]
    public void Evaluate_IjbLayout_AlignsAggregatesTemplatesAndScoresPairs()
    {
        var ijb = Path.Combine(root, "ijbb");
        Directory.CreateDirectory(Path.Combine(ijb, "loose_crop"));
        // The crops are 40 px aligned faces: their 5 points are the template scaled to 40 px.
        var points = FaceTemplate.Points112.ToArray().Select(v => v * 40f / 112f).ToArray();
        var faces = new List<IjbFace>();
        for (int i = 0; i < images.Count; i++)
        {
            var name = $"{i}.png";
            File.Copy(images[i], Path.Combine(ijb, "loose_crop", name));
            int identity = i / 6, sample = i % 6;
            // Two templates per identity, each of three images in two media.
            faces.Add(new IjbFace(name, identity * 2 + sample / 3, 100 * identity + sample / 2, points, 1f));
        }
        var templatePairs = new List<IjbTemplatePair>();
        for (int t1 = 0; t1 < 12; t1++)
            for (int t2 = t1 + 1; t2 < 12; t2++)
                templatePairs.Add(new IjbTemplatePair(t1, t2, t1 / 2 == t2 / 2 ? 1 : 0));
        IjbMetaWriter.Write(ijb, IjbVariant.IjbB, faces, templatePairs);
        var report = Evaluate(model, ijb, EvaluationProtocol.IjbB, "ijb");
        Assert.IsTrue(Eer(report) < 0.25, $"template EER {Eer(report)}");
    }

    [TestMethod]
    public void Evaluate_SynthFaceTiny_ReportsEveryStratumAndTemplates()
    {
        var report = Evaluate(model, "tiny", EvaluationProtocol.SynthFace, "synthface");
        var names = report["verification"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ToArray();
        CollectionAssert.AreEqual(new[] { "SynthFace (all pairs)", "SynthFace / EasyHQ", "SynthFace / HardHQ", "SynthFace / LQ" }, names[..4]);
        CollectionAssert.AreEqual(new[] { "SynthFace, random impostors / EasyHQ", "SynthFace, random impostors / HardHQ", "SynthFace, random impostors / LQ" }, names[4..7]);
        Assert.AreEqual("SynthFace templates", names[^1]);
        foreach (var v in report["verification"]!.AsArray())
            Assert.IsTrue(v!["genuine"]!.GetValue<int>() > 0 && v["impostor"]!.GetValue<int>() > 0, v.ToJsonString()[..200]);
        var strataPairs = report["verification"]!.AsArray().Skip(1).Take(3).Sum(v => v!["genuine"]!.GetValue<int>() + v["impostor"]!.GetValue<int>());
        Assert.AreEqual(report["verification"]!.AsArray()[0]!["genuine"]!.GetValue<int>() + report["verification"]!.AsArray()[0]!["impostor"]!.GetValue<int>(), strataPairs,
            "the strata partition the pairs");

        // pairs.csv: one row per pair with its stratum, kind and score; the random-impostor rows count its genuine and Impostor rows.
        var rows = File.ReadAllLines(Path.Combine(root, "synthface", "pairs.csv"));
        Assert.AreEqual("identity_a,sample_a,identity_b,sample_b,stratum,kind,score", rows[0]);
        var fields = rows.Skip(1).Select(r => r.Split(',')).ToArray();
        Assert.AreEqual(strataPairs, fields.Length);
        var hardRandom = report["verification"]!.AsArray()[5]!;
        Assert.AreEqual(fields.Count(f => f[4] == "HardHQ" && f[5] == "Genuine"), hardRandom["genuine"]!.GetValue<int>());
        Assert.AreEqual(fields.Count(f => f[4] == "HardHQ" && f[5] == "Impostor"), hardRandom["impostor"]!.GetValue<int>());
        Assert.IsTrue(fields.All(f => float.TryParse(f[6], System.Globalization.CultureInfo.InvariantCulture, out var c) && c is >= -1.0001f and <= 1.0001f));
        Assert.IsEmpty(report["imageFidelity"]!.AsArray(), "no renderer, no canonical-face PSNR");
    }

    [TestMethod]
    [DataRow("not-onnx.onnx", DisplayName = "text file named .onnx")]
    [DataRow("truncated.zip", DisplayName = "model.zip cut in half")]
    public void Evaluate_DamagedModel_OneLineNamingTheFile(string name)
    {
        var path = Path.Combine(root, name);
        if (name.EndsWith(".zip", StringComparison.Ordinal))
        {
            var bytes = File.ReadAllBytes(model);
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        }
        else
        {
            File.WriteAllText(path, "this is not an ONNX graph");
        }
        var output = new StringWriter();
        int code = EvaluateCommand.Run(new EvaluateSettings
        {
            ModelPath = path, DataPath = data, Protocol = EvaluationProtocol.Folder, OutputDirectory = Path.Combine(root, "damaged-" + name), InputSize = 32,
        }, FaceFolder.Console(output), CancellationToken.None);
        var text = output.ToString();
        Assert.AreEqual(1, code, text);
        if (name.EndsWith(".zip", StringComparison.Ordinal))
        {
            // Checked before loading (LH2FaceModelFile.Verify): the zip itself does not open.
            StringAssert.StartsWith(text, $"Error: Model '{path}' is not a readable model.zip (");
            StringAssert.Contains(text, "it is truncated or not a zip. Save the model again or copy it whole.");
        }
        else
        {
            StringAssert.StartsWith(text, $"Error: Cannot load model '{path}': ");
            StringAssert.Contains(text, "Give a model.zip written by 'lh2face train' or an ONNX face model");
        }
        Assert.AreEqual(1, text.TrimEnd().Split('\n').Length, text);
        Assert.IsFalse(text.Contains("   at ", StringComparison.Ordinal), "no stack trace: " + text);
        Assert.IsFalse(Directory.Exists(Path.Combine(root, "damaged-" + name)));
    }

    [TestMethod]
    public void Evaluate_MissingData_OneLineError()
    {
        var output = new StringWriter();
        int code = EvaluateCommand.Run(new EvaluateSettings
        {
            ModelPath = model, DataPath = Path.Combine(root, "nope"), Protocol = EvaluationProtocol.Folder, OutputDirectory = Path.Combine(root, "x"),
        }, FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output.ToString(), "nope' does not exist");
    }
}

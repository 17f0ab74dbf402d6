using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LH2Face.Cli.Tests;

[TestClass]
public sealed class CommandTests
{
    private string root = "";

    [TestInitialize]
    public void CreateFolder() => root = Directory.CreateTempSubdirectory("lh2face-cli-tests-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    [TestMethod]
    public void Train_NativeHeapPrecisionAndRecomputeFlags_ReachTheTrainerAndItsLog()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 2, samples: 4, size: 32);
        var log = Path.Combine(root, "train.log");
        var output = new StringWriter();
        int code = CliApp.Run(
            ["train", "--data", data, "--out", Path.Combine(root, "m.zip"), "--input-size", "32", "--embedding-size", "8", "--epochs", "1",
             "--batch-size", "4", "--device", "Cpu", "--native-heap", "Unchanged", "--precision", "BFloat16", "--recompute-activations", "--log", log],
            FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());
        var text = File.ReadAllText(log);
        StringAssert.Contains(text, "C heap left unchanged (Options.NativeHeap = Unchanged).");
        StringAssert.Contains(text, "Precision: the backbone's convolutional trunk computes in bfloat16 in training passes");
        StringAssert.Contains(text, "shapes in bfloat16 within 0.02");
        StringAssert.Contains(text, "Activation recomputation: the backbone's trunk keeps only the input of each residual block");
        Assert.IsTrue(File.Exists(Path.Combine(root, "m.zip")));
    }

    [TestMethod]
    public void TrainThenEmbed_TinyFolder_WritesModelOnnxAndNormalisedEmbeddings()
    {
        var data = Path.Combine(root, "faces");
        var images = FaceFolder.Write(data, identities: 4, samples: 6, size: 40);
        var model = Path.Combine(root, "model.zip");
        var onnx = Path.Combine(root, "model.onnx");

        var trainOut = new StringWriter();
        int trained = CliApp.Run(
            ["train", "--data", data, "--out", model, "--backbone", "Compact", "--input-size", "32", "--embedding-size", "16",
             "--epochs", "2", "--batch-size", "8", "--device", "Cpu", "--onnx", onnx],
            FaceFolder.Console(trainOut), CancellationToken.None);
        Assert.AreEqual(0, trained, trainOut.ToString());
        Assert.IsTrue(File.Exists(model), "model zip");
        Assert.IsTrue(new FileInfo(onnx).Length > 0, "ONNX file");
        StringAssert.Contains(trainOut.ToString(), "24 images of 4 identities");
        StringAssert.Contains(trainOut.ToString(), "Training finished");
        Assert.AreEqual(0, Directory.GetFiles(root, "*.tmp").Length, "no temporary files left");

        var csv = Path.Combine(root, "embeddings.csv");
        var embedOut = new StringWriter();
        int embedded = EmbedCommand.Run(new EmbedSettings { ModelPath = model, ImagesPath = data, OutputPath = csv },
            FaceFolder.Console(embedOut), CancellationToken.None);
        Assert.AreEqual(0, embedded, embedOut.ToString());
        var lines = File.ReadAllLines(csv);
        Assert.AreEqual("path,quality," + string.Join(",", Enumerable.Range(0, 16).Select(i => $"e{i}")), lines[0]);
        Assert.AreEqual(images.Count + 1, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(f => f[0], f => f.Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        CollectionAssert.AreEquivalent(images.Select(p => Path.GetRelativePath(data, p).Replace('\\', '/')).ToList(), rows.Keys.ToList());
        foreach (var (path, values) in rows)
        {
            Assert.AreEqual(17, values.Length, path);
            Assert.IsTrue(values[0] > 0, $"quality of {path} is {values[0]}");
            Assert.AreEqual(1.0, Math.Sqrt(values.Skip(1).Sum(v => (double)v * v)), 1e-4, $"embedding of {path} is L2-normalised");
        }

        // The same file on its own gives the same values.
        var single = Path.Combine(root, "single.csv");
        Assert.AreEqual(0, EmbedCommand.Run(new EmbedSettings { ModelPath = model, ImagesPath = images[5], OutputPath = single },
            FaceFolder.Console(new StringWriter()), CancellationToken.None));
        var singleLines = File.ReadAllLines(single);
        Assert.AreEqual(2, singleLines.Length);
        var singleValues = singleLines[1].Split(',').Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(rows[Path.GetRelativePath(data, images[5]).Replace('\\', '/')], singleValues);

        CheckUnseenIdentity(model, images[5]);
    }

    /// <summary>
    /// The saved chain keeps MapValueToKey(Identity): at scoring an unseen identity (embed passes "") maps
    /// to the missing key 0 without error, and the embedding does not depend on the identity.
    /// </summary>
    private static void CheckUnseenIdentity(string modelPath, string image)
    {
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(modelPath, out _);
        try
        {
            var input = ml.Data.LoadFromEnumerable(new[] { "", "nobody", "id000" }.Select(
                identity => new TrainCommand.ImageRow { ImagePath = image, Identity = identity }));
            var rows = ml.Data.CreateEnumerable<Keyed>(model.Transform(input), reuseRowObject: false).ToList();
            Assert.AreEqual(0u, rows[0].Label, "empty identity -> missing key");
            Assert.AreEqual(0u, rows[1].Label, "unseen identity -> missing key");
            Assert.AreEqual(1u, rows[2].Label, "first training identity -> key 1");
            CollectionAssert.AreEqual(rows[2].Embedding, rows[0].Embedding);
            CollectionAssert.AreEqual(rows[2].Embedding, rows[1].Embedding);
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    private sealed class Keyed
    {
        [KeyType(4)]
        public uint Label { get; set; }

        public float[] Embedding { get; set; } = [];
    }

    [TestMethod]
    public void Train_Preset_SetsTheLossAndHeadOverridesOnlyTheHead()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 3, samples: 4, size: 24);
        string LossOf(params string[] extra)
        {
            var onnx = Path.Combine(root, $"m{extra.Length}.onnx");
            var output = new StringWriter();
            string[] args = ["train", "--data", data, "--out", Path.Combine(root, $"m{extra.Length}.zip"), "--input-size", "16", "--embedding-size", "8",
                "--epochs", "1", "--batch-size", "4", "--device", "Cpu", "--onnx", onnx, .. extra];
            Assert.AreEqual(0, CliApp.Run(args, FaceFolder.Console(output), CancellationToken.None), output.ToString());
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
            return session.ModelMetadata.CustomMetadataMap["lh2face.loss"];
        }

        // The default is the LH2Face method: its head with an angular margin at the scale sqrt(d) plus the kappa ranking, no proxy terms.
        var lh2face = LossOf();
        StringAssert.Contains(lh2face, "\"head\":\"LH2Face(margin=Angular");
        StringAssert.Contains(lh2face, "\"kappa_ranking\":1.5");
        Assert.IsFalse(lh2face.Contains("proxy_p", StringComparison.Ordinal), lh2face);
        // METHOD.md read literally: the Literal margin and the three proxy losses.
        var literal = LossOf("--preset", "LH2FaceLiteral");
        StringAssert.Contains(literal, "\"head\":\"LH2Face(margin=Literal");
        StringAssert.Contains(literal, "\"proxy_pp\":1");
        Assert.IsFalse(literal.Contains("kappa_ranking", StringComparison.Ordinal), literal);
        // A baseline preset: its head, no proxy terms, no kappa ranking.
        var arcface = LossOf("--preset", "ArcFace");
        StringAssert.Contains(arcface, "\"head\":\"ArcFace(s=64, m=0.5)\"");
        Assert.IsFalse(arcface.Contains("proxy_p", StringComparison.Ordinal), arcface);
        Assert.IsFalse(arcface.Contains("kappa_ranking", StringComparison.Ordinal), arcface);
        // --head swaps the head only: CosFace with the LH2Face preset's other terms (the kappa ranking).
        var cosface = LossOf("--preset", "LH2Face", "--head", "CosFace");
        StringAssert.Contains(cosface, "\"head\":\"CosFace(s=64, m=0.35)\"");
        StringAssert.Contains(cosface, "\"kappa_ranking\":1.5");
    }

    [TestMethod]
    public void Train_MissingFolder_FailsNamingIt()
    {
        var missing = Path.Combine(root, "no-such-folder");
        var (code, output) = Train(missing);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output, missing);
        StringAssert.StartsWith(output, "Error:");
        Assert.AreEqual(1, output.TrimEnd().Split('\n').Length, output);
        Assert.IsFalse(output.Contains("   at ", StringComparison.Ordinal), "no stack trace");
    }

    [TestMethod]
    public void Train_OneIdentity_Fails()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 1, samples: 3, size: 20);
        var (code, output) = Train(data);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output, "only 1 identity");
    }

    [TestMethod]
    public void Train_NoSubFolders_Fails()
    {
        var (code, output) = Train(root);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output, "no identity sub-folders");
    }

    [TestMethod]
    public void Train_SubFoldersWithoutImages_Fails()
    {
        Directory.CreateDirectory(Path.Combine(root, "a"));
        Directory.CreateDirectory(Path.Combine(root, "b"));
        File.WriteAllText(Path.Combine(root, "b", "notes.txt"), "not an image");
        var (code, output) = Train(root);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output, "no .png, .jpg or .jpeg images");
    }

    [TestMethod]
    public void Train_InvalidOption_PrintsTheLibraryMessageWithTheFlag()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 2, samples: 2, size: 20);
        var (code, output) = Train(data, batchSize: 1);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output, "Error: --batch-size is 1; batch norm needs at least 2.");
        Assert.IsFalse(output.Contains("Options.", StringComparison.Ordinal), output);
        Assert.IsFalse(output.Contains("(Parameter", StringComparison.Ordinal), output);
    }

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Train_ReadOnlyOutputFile_FailsBeforeTrainingAndKeepsTheFile()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 2, samples: 2, size: 20);
        var model = Path.Combine(root, "model.zip");
        File.WriteAllText(model, "an earlier model");
        File.SetUnixFileMode(model, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        try
        {
            var progress = new StringWriter();
            int code = TrainCommand.Run(Settings(data), FaceFolder.Console(progress), CancellationToken.None);
            var output = progress.ToString();
            Assert.AreEqual(1, code, output);
            StringAssert.StartsWith(output, "Error: Cannot write the model '" + model + "': the file exists and is read-only");
            Assert.AreEqual(1, output.TrimEnd().Split('\n').Length, "one line, printed before any training: " + output);
            Assert.AreEqual("an earlier model", File.ReadAllText(model));
            CollectionAssert.AreEquivalent(new[] { model }, Directory.GetFiles(root), "no temporary file is left beside it");
        }
        finally
        {
            File.SetUnixFileMode(model, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [TestMethod]
    public void TrainAndEmbed_DamagedImages_FailNamingTheFileOrAreSkippedAndCounted()
    {
        var data = Path.Combine(root, "faces");
        var images = FaceFolder.Write(data, identities: 3, samples: 4, size: 40);
        var truncated = images[5];
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length * 4 / 10).ToArray());

        var (code, output) = Train(data);
        Assert.AreEqual(1, code, output);
        StringAssert.StartsWith(output, $"Error: Image '{truncated}' cannot be used: its image data ends early (a truncated Png file");
        StringAssert.Contains(output, "or pass --skip-corrupt to leave such images out.");
        Assert.AreEqual(1, output.TrimEnd().Split('\n').Length, output);
        Assert.IsFalse(File.Exists(Path.Combine(root, "model.zip")));

        var trainOut = new StringWriter();
        Assert.AreEqual(0, TrainCommand.Run(Settings(data) with { SkipCorrupt = true }, FaceFolder.Console(trainOut), CancellationToken.None), trainOut.ToString());
        StringAssert.Contains(trainOut.ToString(), "Skipped 1 image(s) that do not decode completely (--skip-corrupt)");
        StringAssert.Contains(trainOut.ToString(), "11 images of 3 identities");

        // embed: an empty .png joins the truncated one.
        var empty = Path.Combine(data, images[0].Split(Path.DirectorySeparatorChar)[^2], "empty.png");
        File.WriteAllBytes(empty, []);
        var csv = Path.Combine(root, "embeddings.csv");
        var embedOut = new StringWriter();
        var settings = new EmbedSettings { ModelPath = Path.Combine(root, "model.zip"), ImagesPath = data, OutputPath = csv };
        Assert.AreEqual(1, EmbedCommand.Run(settings, FaceFolder.Console(embedOut), CancellationToken.None));
        StringAssert.StartsWith(embedOut.ToString(), "Error: Image '");
        StringAssert.Contains(embedOut.ToString(), "' cannot be used: ");
        Assert.IsFalse(File.Exists(csv), "nothing written");
        embedOut = new StringWriter();
        Assert.AreEqual(0, EmbedCommand.Run(settings with { SkipCorrupt = true }, FaceFolder.Console(embedOut), CancellationToken.None), embedOut.ToString());
        StringAssert.Contains(embedOut.ToString(), "Skipped 2 image(s)");
        StringAssert.Contains(embedOut.ToString(), "the file is empty (0 bytes)");
        Assert.AreEqual(1 + images.Count - 1, File.ReadAllLines(csv).Length, "a header and the 11 good images");
    }

    [TestMethod]
    public void Train_Cancelled_ExitsWithMessage()
    {
        var data = Path.Combine(root, "faces");
        FaceFolder.Write(data, identities: 2, samples: 2, size: 20);
        var output = new StringWriter();
        int code = TrainCommand.Run(Settings(data), FaceFolder.Console(output), new CancellationToken(canceled: true));
        Assert.AreEqual(TrainCommand.CancelledExitCode, code, output.ToString());
        StringAssert.Contains(output.ToString(), "Training cancelled");
        Assert.IsFalse(File.Exists(Path.Combine(root, "model.zip")));
    }

    [TestMethod]
    public void Embed_MissingModel_Fails()
    {
        var output = new StringWriter();
        var model = Path.Combine(root, "missing.zip");
        int code = EmbedCommand.Run(new EmbedSettings { ModelPath = model, ImagesPath = root, OutputPath = Path.Combine(root, "e.csv") },
            FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output.ToString(), model);
    }

    [TestMethod]
    public void Parse_MissingRequiredOption_Fails()
    {
        var output = new StringWriter();
        var error = Console.Error;
        try
        {
            Console.SetError(TextWriter.Null);
            // --out is required (--data is not: without it the demo set is used).
            Assert.AreNotEqual(0, CliApp.Run(["train", "--data", root], FaceFolder.Console(output), CancellationToken.None));
            Assert.IsFalse(File.Exists(Path.Combine(root, "m.zip")));
        }
        finally
        {
            Console.SetError(error);
        }
    }

    private TrainSettings Settings(string data, int batchSize = 8) => new()
    {
        DataFolder = data,
        OutputPath = Path.Combine(root, "model.zip"),
        InputSize = 32,
        EmbeddingSize = 16,
        Epochs = 1,
        BatchSize = batchSize,
        Device = Microsoft.ML.LH2Face.LH2FaceDevice.Cpu,
    };

    private (int Code, string Output) Train(string data, int batchSize = 8)
    {
        var output = new StringWriter();
        int code = TrainCommand.Run(Settings(data, batchSize), FaceFolder.Console(output), CancellationToken.None);
        return (code, output.ToString());
    }
}

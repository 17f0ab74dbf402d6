using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.LH2Face.Data.Formats;

namespace LH2Face.Cli.Tests;

/// <summary>
/// The reliability suite (issue 16): every bad input and fault through the command line, each asserting the exit code,
/// the one-line message on stderr (what file, flag, entry or pair; what to do), nothing on stdout that looks like an
/// error, no .NET stack trace, and no leftovers (no temporary files, no model or report written on failure).
/// </summary>
[TestClass]
public sealed class ReliabilityTests
{
    private static string root = "";
    private static string faces = "";
    private static string model = "";
    private static string onnx = "";
    private static string checkpoints = "";
    private static List<string> images = [];

    private sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    [ClassInitialize]
    public static void TrainOnce(TestContext _)
    {
        root = Directory.CreateTempSubdirectory("lh2face-reliability-").FullName;
        faces = Path.Combine(root, "faces");
        images = FaceFolder.Write(faces, identities: 4, samples: 4, size: 32);
        model = Path.Combine(root, "model.zip");
        onnx = Path.Combine(root, "model.onnx");
        checkpoints = Path.Combine(root, "ckpt");
        // 16 images, batch 4: 4 steps an epoch, 2 epochs; a checkpoint every 3 steps: the two latest are kept, step 6
        // (inside the second epoch) and step 8 (the end).
        var r = Run("train", "--data", faces, "--out", model, "--onnx", onnx, "--input-size", "32", "--embedding-size", "8",
            "--epochs", "2", "--batch-size", "4", "--device", "Cpu", "--checkpoint-dir", checkpoints, "--checkpoint-every", "3");
        Assert.AreEqual(0, r.Code, r.ToString());
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(root, recursive: true);

    private static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, FaceFolder.Console(stdout), FaceFolder.Console(stderr), CancellationToken.None);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A fresh folder for one case.</summary>
    private static string Case(string name)
    {
        var dir = Path.Combine(root, "case-" + name);
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Exit 1, exactly one line on stderr "Error: ..." holding every fragment, no stack trace, no error on stdout.</summary>
    private static void AssertFails(Result r, params string[] fragments)
    {
        Assert.AreEqual(ExitCodes.Failure, r.Code, r.ToString());
        var lines = r.Err.TrimEnd().Split('\n');
        Assert.HasCount(1, lines, "one line on stderr: " + r);
        StringAssert.StartsWith(lines[0], "Error: ", r.ToString());
        foreach (var fragment in fragments)
            StringAssert.Contains(lines[0], fragment, r.ToString());
        AssertClean(r);
    }

    /// <summary>Exit 2: each problem on a line of its own, then where to find the options.</summary>
    private static void AssertUsage(Result r, string fragment)
    {
        Assert.AreEqual(ExitCodes.Usage, r.Code, r.ToString());
        var lines = r.Err.TrimEnd().Split('\n');
        StringAssert.StartsWith(lines[0], "Error: ", r.ToString());
        StringAssert.Contains(r.Err, fragment, r.ToString());
        StringAssert.StartsWith(lines[^1], "Run 'lh2face ", r.ToString());
        AssertClean(r);
    }

    private static void AssertClean(Result r)
    {
        foreach (var text in new[] { r.Out, r.Err })
        {
            Assert.IsFalse(text.Contains("   at ", StringComparison.Ordinal), "no stack trace: " + r);
            Assert.IsFalse(text.Contains("unexpected fault", StringComparison.Ordinal), "every case is an input error, not an internal fault: " + r);
        }
        Assert.IsFalse(r.Out.Contains("Error", StringComparison.Ordinal), "errors go to stderr only: " + r);
    }

    private static void AssertNoLeftovers(string dir)
    {
        var stray = Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith(".lh2face", StringComparison.Ordinal)).ToList()
            : [];
        Assert.IsEmpty(stray, "temporary files left: " + string.Join(", ", stray));
    }

    /// <summary>An identity folder copy of the faces with one file replaced or added.</summary>
    private static string FacesWith(string dir, string name, byte[] bytes)
    {
        var copy = Path.Combine(dir, "faces");
        foreach (var file in images)
        {
            var target = Path.Combine(copy, Path.GetRelativePath(faces, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.WriteAllBytes(Path.Combine(copy, "id000", name), bytes);
        return copy;
    }

    private static byte[] Truncated(string file) => File.ReadAllBytes(file).AsSpan(0, (int)(new FileInfo(file).Length * 0.4)).ToArray();

    /// <summary>A PNG of the given size (a photo-like image when far from square or large).</summary>
    private static byte[] Png(int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height);
        bitmap.Erase(new SkiaSharp.SKColor(120, 90, 60));
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static string[] TrainArgs(string data, string output, params string[] more)
        => ["train", "--data", data, "--out", output, "--input-size", "32", "--embedding-size", "8", "--epochs", "1", "--batch-size", "4", "--device", "Cpu", .. more];

    // ---------------------------------------------------------------- train: data

    [TestMethod]
    public void Train_MissingDataFolder()
    {
        var dir = Case("train-missing");
        var r = Run(TrainArgs(Path.Combine(dir, "nowhere"), Path.Combine(dir, "m.zip")));
        AssertFails(r, "Data folder '", "nowhere' does not exist.");
        Assert.IsFalse(File.Exists(Path.Combine(dir, "m.zip")));
    }

    [TestMethod]
    public void Train_EmptyDataFolder()
    {
        var dir = Case("train-empty");
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        AssertFails(Run(TrainArgs(Path.Combine(dir, "data"), Path.Combine(dir, "m.zip"))), "has no identity sub-folders: expected ");
    }

    [TestMethod]
    public void Train_OneIdentity()
    {
        var dir = Case("train-one");
        FaceFolder.Write(Path.Combine(dir, "data"), identities: 1, samples: 3, size: 32);
        AssertFails(Run(TrainArgs(Path.Combine(dir, "data"), Path.Combine(dir, "m.zip"))), "images of only 1 identity; training needs at least 2");
    }

    [TestMethod]
    public void Train_SubFoldersWithoutImages()
    {
        var dir = Case("train-noimages");
        Directory.CreateDirectory(Path.Combine(dir, "data", "a"));
        File.WriteAllText(Path.Combine(dir, "data", "a", "notes.txt"), "x");
        Directory.CreateDirectory(Path.Combine(dir, "data", "b"));
        AssertFails(Run(TrainArgs(Path.Combine(dir, "data"), Path.Combine(dir, "m.zip"))), "has 2 sub-folder(s) but no .png, .jpg or .jpeg images in them");
    }

    [TestMethod]
    [DataRow("truncated", DisplayName = "truncated PNG (40% of its bytes)")]
    [DataRow("empty", DisplayName = "zero-byte .png")]
    [DataRow("text", DisplayName = "text file named .png")]
    public void Train_DamagedImage_NamedAndNothingSaved(string kind)
    {
        var dir = Case("train-damaged-" + kind);
        var bytes = kind switch { "truncated" => Truncated(images[0]), "empty" => [], _ => Encoding.UTF8.GetBytes("not an image at all") };
        var data = FacesWith(dir, "bad.png", bytes);
        var output = Path.Combine(dir, "m.zip");
        var r = Run(TrainArgs(data, output));
        AssertFails(r, Path.Combine(data, "id000", "bad.png"), "cannot be used: ", "pass --skip-corrupt");
        Assert.IsFalse(File.Exists(output));
        AssertNoLeftovers(dir);
    }

    [TestMethod]
    public void Train_SkipCorrupt_TrainsAndCounts()
    {
        var dir = Case("train-skip");
        var data = FacesWith(dir, "bad.png", Truncated(images[0]));
        var r = Run(TrainArgs(data, Path.Combine(dir, "m.zip"), "--skip-corrupt"));
        Assert.AreEqual(0, r.Code, r.ToString());
        StringAssert.Contains(r.Out, "Skipped 1 image(s) that do not decode completely (--skip-corrupt)");
        StringAssert.Contains(r.Out, "16 images of 4 identities");
        Assert.AreEqual("", r.Err, r.ToString());
    }

    [TestMethod]
    [DataRow(300, 150, "far from square", DisplayName = "300x150 photo")]
    [DataRow(400, 400, "more than 4 times the model's 32x32 input", DisplayName = "400x400 photo")]
    public void Train_PhotoSizedImage_RefusedUnlessResize(int width, int height, string why)
    {
        var dir = Case($"train-photo-{width}x{height}");
        var data = FacesWith(dir, "photo.png", Png(width, height));
        var output = Path.Combine(dir, "m.zip");
        AssertFails(Run(TrainArgs(data, output)), $"photo.png' is {width}x{height}", why, "pass --resize");
        Assert.IsFalse(File.Exists(output));
    }

    [TestMethod]
    public void Train_PhotoWithResize_Trains()
    {
        var dir = Case("train-resize");
        var data = FacesWith(dir, "photo.png", Png(300, 150));
        var r = Run(TrainArgs(data, Path.Combine(dir, "m.zip"), "--resize"));
        Assert.AreEqual(0, r.Code, r.ToString());
        StringAssert.Contains(r.Out, "resized to the model input (--resize)");
    }

    // ---------------------------------------------------------------- train: options

    [TestMethod]
    [DataRow("--epochs", "0", "--epochs is 0; use at least 1")]
    [DataRow("--epochs", "-1", "--epochs is -1; use at least 1")]
    [DataRow("--lr", "NaN", "--lr is NaN; use a positive rate")]
    [DataRow("--batch-size", "1", "--batch-size is 1; batch norm needs at least 2")]
    [DataRow("--input-size", "8", "--input-size is 8; use 16..1024")]
    [DataRow("--embedding-size", "1", "--embedding-size is 1; use 2..8192")]
    [DataRow("--checkpoint-every", "5", "--checkpoint-every needs a --checkpoint-dir to write to")]
    public void Train_BadOptionValue_NamesTheFlag(string flag, string value, string message)
    {
        var dir = Case("train-option" + flag + value);
        var output = Path.Combine(dir, "m.zip");
        var args = TrainArgs(faces, output).ToList();
        int at = args.IndexOf(flag);
        if (at >= 0)
            args[at + 1] = value;
        else
            args.AddRange([flag, value]);
        var r = Run([.. args]);
        AssertFails(r, message);
        Assert.IsFalse(r.Err.Contains("Options.", StringComparison.Ordinal), "flags, not library option names: " + r);
        Assert.IsFalse(r.Out.Contains("images of", StringComparison.Ordinal), "checked before the images are read: " + r);
        Assert.IsFalse(File.Exists(output));
    }

    [TestMethod]
    [DataRow(new[] { "train", "--data", "x", "--out", "m.zip", "--preset", "Bogus" }, "Bogus", DisplayName = "bad --preset")]
    [DataRow(new[] { "train", "--data", "x", "--out", "m.zip", "--frobnicate" }, "--frobnicate", DisplayName = "unknown option")]
    [DataRow(new[] { "train", "--data", "x" }, "--out", DisplayName = "missing required --out")]
    [DataRow(new[] { "train", "--out", "m.zip", "--epochs", "many" }, "many", DisplayName = "--epochs not a number")]
    [DataRow(new string[0], "command", DisplayName = "no command")]
    [DataRow(new[] { "fly" }, "fly", DisplayName = "unknown command")]
    [DataRow(new[] { "evaluate", "--model", "m.zip", "--data", "x", "--out", "o", "--protocol", "Nope" }, "Nope", DisplayName = "bad --protocol")]
    [DataRow(new[] { "generate", "--out", "o", "--format", "Tiff" }, "Tiff", DisplayName = "bad --format")]
    public void CommandLine_Usage_Exit2(string[] args, string fragment) => AssertUsage(Run(args), fragment);

    [TestMethod]
    public void Train_ArcFaceWithLargeBatch_NotCheckedAgainstProxyOptions()
    {
        var dir = Case("train-bigbatch");
        var r = Run(TrainArgs(faces, Path.Combine(dir, "m.zip"), "--preset", "ArcFace").Select(a => a == "4" ? "1024" : a).ToArray());
        Assert.IsFalse(r.Err.Contains("ProxySample", StringComparison.Ordinal), r.ToString());
        Assert.AreEqual(0, r.Code, r.ToString());
    }

    [TestMethod]
    public void Train_MontageWithoutRenderer() =>
        AssertFails(Run(TrainArgs(faces, Path.Combine(Case("train-montage"), "m.zip"), "--montage", "m.png")), "--montage needs --renderer");

    // ---------------------------------------------------------------- train: outputs

    [TestMethod]
    public void Train_OutputFolderMissing_FailsBeforeTraining()
    {
        var dir = Case("train-outmissing");
        var r = Run(TrainArgs(faces, Path.Combine(dir, "no", "m.zip")));
        AssertFails(r, "Cannot write the model '", "does not exist.");
        Assert.IsFalse(r.Out.Contains("images of", StringComparison.Ordinal), "checked before the images are read: " + r);
    }

    [TestMethod]
    public void Train_OutputIsAFolder() =>
        AssertFails(Run(TrainArgs(faces, Case("train-outfolder"))), "is a folder; give a file name");

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Train_ReadOnlyOutputFile_FailsFirstAndKeepsTheFile()
    {
        var dir = Case("train-readonly-file");
        var output = Path.Combine(dir, "m.zip");
        File.WriteAllText(output, "keep me");
        File.SetUnixFileMode(output, UnixFileMode.UserRead);
        var r = Run(TrainArgs(faces, output));
        AssertFails(r, "the file exists and is read-only");
        Assert.AreEqual("keep me", File.ReadAllText(output));
        Assert.IsFalse(r.Out.Contains("images of", StringComparison.Ordinal), "checked before the images are read: " + r);
    }

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Train_ReadOnlyOutputFolder_FailsFirst()
    {
        if (Environment.UserName == "root")
            Assert.Inconclusive("root writes into read-only folders");
        var dir = Case("train-readonly-folder");
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            AssertFails(Run(TrainArgs(faces, Path.Combine(dir, "m.zip"))), "is not writable");
        }
        finally
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [TestMethod]
    public void Train_LogFileInMissingFolder() =>
        AssertFails(Run(TrainArgs(faces, Path.Combine(Case("train-log"), "m.zip"), "--log", Path.Combine(root, "nope", "train.log"))), "Cannot write the log file '");

    [TestMethod]
    public void Train_Diverges_NothingSavedAndTheOldModelKept()
    {
        var dir = Case("train-diverge");
        var output = Path.Combine(dir, "m.zip");
        File.WriteAllText(output, "the model from before");
        var r = Run(TrainArgs(faces, output, "--lr", "1e6"));
        AssertFails(r, "Training diverged", "Lower --lr (now ");
        Assert.AreEqual("the model from before", File.ReadAllText(output));
        AssertNoLeftovers(dir);
    }

    // ---------------------------------------------------------------- train: resume

    [TestMethod]
    public void Train_ResumeFolderMissing() =>
        AssertFails(Run(TrainArgs(faces, Path.Combine(Case("resume-missing"), "m.zip"), "--resume", Path.Combine(root, "no-ckpt"))), "Resume folder '", "does not exist");

    /// <summary>A copy of the checkpoint after step 6 (inside epoch 2), damaged by <paramref name="damage"/>.</summary>
    private static string CheckpointCopy(string dir, Action<string> damage)
    {
        var source = Path.Combine(checkpoints, "step-00000006");
        Assert.IsTrue(Directory.Exists(source), "the class run kept a checkpoint at step 6: " + string.Join(", ", Directory.GetDirectories(checkpoints)));
        var copy = Path.Combine(dir, "step-00000006");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        damage(copy);
        return copy;
    }

    private static string[] ResumeArgs(string dir, string checkpoint)
        => ["train", "--data", faces, "--out", Path.Combine(dir, "m.zip"), "--input-size", "32", "--embedding-size", "8",
            "--epochs", "2", "--batch-size", "4", "--device", "Cpu", "--resume", checkpoint];

    [TestMethod]
    public void Train_ResumeCorruptState_NamedAndRefused()
    {
        var dir = Case("resume-state");
        var checkpoint = CheckpointCopy(dir, c => File.WriteAllText(Path.Combine(c, "state.json"), "{ \"Step\": 6, "));
        var r = Run(ResumeArgs(dir, checkpoint));
        AssertFails(r, Path.Combine(checkpoint, "state.json"), "is damaged", "resume from an earlier step-* folder");
        Assert.IsFalse(File.Exists(Path.Combine(dir, "m.zip")));
    }

    [TestMethod]
    [DataRow("weights.bin", DisplayName = "truncated weights")]
    [DataRow("optimizer.bin", DisplayName = "truncated optimiser state")]
    public void Train_ResumeTruncatedCheckpointFile_NamedAndRefused(string name)
    {
        var dir = Case("resume-" + name);
        var checkpoint = CheckpointCopy(dir, c =>
        {
            var file = Path.Combine(c, name);
            File.WriteAllBytes(file, File.ReadAllBytes(file).AsSpan(0, (int)(new FileInfo(file).Length / 2)).ToArray());
        });
        var r = Run(ResumeArgs(dir, checkpoint));
        AssertFails(r, $"Checkpoint file '{Path.Combine(checkpoint, name)}' is truncated or damaged", "resume from an earlier step-* folder");
    }

    [TestMethod]
    public void Train_ResumeWithOtherSettings_Refused()
    {
        var dir = Case("resume-other");
        var args = ResumeArgs(dir, Path.Combine(checkpoints, "step-00000006")).Select(a => a == "8" ? "16" : a).ToArray(); // another --embedding-size
        var r = Run(args);
        AssertFails(r, "--resume = '", "was written by a different run");
        Assert.IsFalse(r.Err.Contains("Options.", StringComparison.Ordinal), r.ToString());
    }

    [TestMethod]
    public void Train_ResumeInsideAnEpoch_LogsWhatTheUninterruptedRunLogged()
    {
        // The class run went through steps 1..8 in one go; resuming from its step-6 checkpoint (inside epoch 2) must
        // give the same epoch losses and the same epoch log line, not a mean over the resumed steps 7 and 8 only.
        var dir = Case("resume-log");
        var log = Path.Combine(dir, "resumed.log");
        var resumed = Path.Combine(dir, "ckpt");
        var r = Run([.. ResumeArgs(dir, Path.Combine(checkpoints, "step-00000006")), "--checkpoint-dir", resumed, "--log", log]);
        Assert.AreEqual(0, r.Code, r.ToString());
        var original = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoints, "step-00000008", "state.json")))!;
        var again = JsonNode.Parse(File.ReadAllText(Path.Combine(resumed, "step-00000008", "state.json")))!;
        var a = original["EpochLosses"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        var b = again["EpochLosses"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        Assert.HasCount(2, a);
        for (int i = 0; i < a.Length; i++)
            Assert.AreEqual(a[i], b[i], 1e-6f, $"epoch {i + 1} loss: uninterrupted {a[i]}, resumed {b[i]}");
        var epochLine = File.ReadAllLines(log).Select(l => l[(l.IndexOf(' ') + 1)..]).Single(l => l.StartsWith("Epoch 2:", StringComparison.Ordinal));
        StringAssert.StartsWith(epochLine, $"Epoch 2: loss {a[1].ToString("F4", System.Globalization.CultureInfo.InvariantCulture)};");
    }

    // ---------------------------------------------------------------- embed

    private static string[] EmbedArgs(string modelPath, string imagesPath, string csv, params string[] more)
        => ["embed", "--model", modelPath, "--images", imagesPath, "--out", csv, .. more];

    [TestMethod]
    public void Embed_MissingModel() =>
        AssertFails(Run(EmbedArgs(Path.Combine(root, "none.zip"), faces, Path.Combine(Case("embed-nomodel"), "e.csv"))), "none.zip' does not exist");

    /// <summary>model.zip damaged in the ways the issue lists; each refused before anything is scored.</summary>
    private static string DamagedModel(string dir, string kind)
    {
        var path = Path.Combine(dir, kind + ".zip");
        switch (kind)
        {
            case "text":
                File.WriteAllText(path, "not a zip");
                break;
            case "truncated":
                File.WriteAllBytes(path, File.ReadAllBytes(model).AsSpan(0, (int)(new FileInfo(model).Length / 2)).ToArray());
                break;
            case "crc":
            {
                // One byte flipped inside the stored (deflated) ONNX entry: the zip still opens, the entry fails its CRC-32.
                var bytes = File.ReadAllBytes(model);
                long offset;
                using (var zip = ZipFile.OpenRead(model))
                    offset = OnnxEntryDataOffset(bytes, zip.Entries.Single(e => e.Name == "OnnxModel"));
                bytes[offset] ^= 0xff;
                File.WriteAllBytes(path, bytes);
                break;
            }
            case "tampered":
            {
                // The ONNX entry changed (one weight byte) and the zip written again with fresh CRCs: a loadable file.
                File.Copy(model, path);
                using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
                var entry = zip.Entries.Single(e => e.Name == "OnnxModel");
                byte[] data;
                using (var s = entry.Open())
                using (var m = new MemoryStream())
                {
                    s.CopyTo(m);
                    data = m.ToArray();
                }
                data[data.Length / 2] ^= 0x40; // inside the graph's initializers (the weights): the bulk of the file
                entry.Delete();
                using var w = zip.CreateEntry("TransformerChain/Transform_002/Transform_001/OnnxModel").Open();
                w.Write(data);
                break;
            }
            case "header":
            {
                File.Copy(model, path);
                using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
                var entry = zip.Entries.Single(e => e.Name == "OnnxModel");
                var name = entry.FullName;
                byte[] data;
                using (var s = entry.Open())
                using (var m = new MemoryStream())
                {
                    s.CopyTo(m);
                    data = m.ToArray();
                }
                data[4] = 0x07; // the ONNX header (after ML.NET's length) no longer starts with ir_version
                entry.Delete();
                using var w = zip.CreateEntry(name).Open();
                w.Write(data);
                break;
            }
        }
        return path;
    }

    private static long OnnxEntryDataOffset(byte[] zip, ZipArchiveEntry entry)
    {
        // Find the local header of the entry: "PK\x03\x04" followed (at +26) by the name length and the name.
        var name = Encoding.UTF8.GetBytes(entry.FullName);
        for (int i = 0; i + 30 + name.Length < zip.Length; i++)
        {
            if (zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == 3 && zip[i + 3] == 4
                && BitConverter.ToUInt16(zip, i + 26) == name.Length && zip.AsSpan(i + 30, name.Length).SequenceEqual(name))
            {
                int extra = BitConverter.ToUInt16(zip, i + 28);
                return i + 30 + name.Length + extra + entry.CompressedLength / 2;
            }
        }
        throw new InvalidOperationException("entry not found");
    }

    [TestMethod]
    [DataRow("embed", "text", "is not a readable model.zip", DisplayName = "embed: text file as model.zip")]
    [DataRow("embed", "truncated", "is not a readable model.zip", DisplayName = "embed: truncated model.zip")]
    [DataRow("embed", "crc", "the file is damaged", DisplayName = "embed: model.zip failing its zip CRC")]
    [DataRow("embed", "tampered", "differs from the one saved", DisplayName = "embed: weights changed in a re-zipped model")]
    [DataRow("embed", "header", "holds no LH2Face ONNX graph", DisplayName = "embed: ONNX header flipped")]
    [DataRow("evaluate", "text", "is not a readable model.zip", DisplayName = "evaluate: text file as model.zip")]
    [DataRow("evaluate", "truncated", "is not a readable model.zip", DisplayName = "evaluate: truncated model.zip")]
    [DataRow("evaluate", "crc", "the file is damaged", DisplayName = "evaluate: model.zip failing its zip CRC")]
    [DataRow("evaluate", "tampered", "differs from the one saved", DisplayName = "evaluate: weights changed in a re-zipped model")]
    [DataRow("evaluate", "header", "holds no LH2Face ONNX graph", DisplayName = "evaluate: ONNX header flipped")]
    public void DamagedModel_RefusedNamingTheFileBeforeScoring(string command, string kind, string fragment)
    {
        var dir = Case($"{command}-model-{kind}");
        var path = DamagedModel(dir, kind);
        var output = Path.Combine(dir, command == "embed" ? "e.csv" : "report");
        var r = command == "embed"
            ? Run(EmbedArgs(path, faces, output))
            : Run("evaluate", "--model", path, "--data", faces, "--protocol", "Folder", "--out", output);
        AssertFails(r, $"Model '{path}'", fragment);
        Assert.IsFalse(File.Exists(output) || Directory.Exists(output), "no CSV, no --out folder");
        AssertNoLeftovers(dir);
    }

    [TestMethod]
    public void Evaluate_TextFileAsOnnx_OneLine()
    {
        var dir = Case("evaluate-textonnx");
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllText(path, "not a graph");
        AssertFails(Run("evaluate", "--model", path, "--data", faces, "--protocol", "Folder", "--out", Path.Combine(dir, "r")), $"Cannot load model '{path}'");
        Assert.IsFalse(Directory.Exists(Path.Combine(dir, "r")));
    }

    [TestMethod]
    public void Embed_TextFileAsOnnx_OneLine()
    {
        var dir = Case("embed-textonnx");
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllText(path, "not a graph");
        AssertFails(Run(EmbedArgs(path, faces, Path.Combine(dir, "e.csv"))), $"Cannot load model '{path}'");
    }

    /// <summary>The standalone ONNX model with its LH2Face metadata key renamed: a "foreign" model with a 32 px input.</summary>
    private static string ForeignOnnx(string dir)
    {
        var bytes = File.ReadAllBytes(onnx);
        var key = Encoding.ASCII.GetBytes("lh2face.format_version");
        int at = bytes.AsSpan().IndexOf(key);
        Assert.IsGreaterThan(0, at);
        bytes[at] = (byte)'x';
        var path = Path.Combine(dir, "foreign.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [TestMethod]
    public void Embed_ForeignOnnxOfAnotherInputSize_NamesTheFlag()
    {
        var dir = Case("embed-foreign");
        var path = ForeignOnnx(dir);
        AssertFails(Run(EmbedArgs(path, faces, Path.Combine(dir, "e.csv"))), $"ONNX model '{path}' input 'pixels' is Single[-1, 3, 32, 32]", "set --input-size");
        var r = Run(EmbedArgs(path, faces, Path.Combine(dir, "e.csv"), "--input-size", "32"));
        Assert.AreEqual(0, r.Code, r.ToString());
    }

    [TestMethod]
    public void Evaluate_ForeignOnnxOfAnotherInputSize_NamesTheFlag()
    {
        var dir = Case("evaluate-foreign");
        var path = ForeignOnnx(dir);
        var r = Run("evaluate", "--model", path, "--data", faces, "--protocol", "Folder", "--out", Path.Combine(dir, "r"));
        AssertFails(r, $"Cannot load model '{path}'", "set --input-size");
        Assert.IsFalse(r.Err.Contains("options.", StringComparison.Ordinal), r.ToString());
    }

    [TestMethod]
    public void Embed_MissingImages() =>
        AssertFails(Run(EmbedArgs(model, Path.Combine(root, "no-images"), Path.Combine(Case("embed-noimages"), "e.csv"))), "is neither a file nor a folder");

    [TestMethod]
    public void Embed_FolderWithoutImages()
    {
        var dir = Case("embed-empty");
        Directory.CreateDirectory(Path.Combine(dir, "in"));
        AssertFails(Run(EmbedArgs(model, Path.Combine(dir, "in"), Path.Combine(dir, "e.csv"))), "has no .png, .jpg or .jpeg files");
    }

    [TestMethod]
    [DataRow("truncated", DisplayName = "truncated PNG")]
    [DataRow("empty", DisplayName = "zero-byte PNG")]
    [DataRow("text", DisplayName = "text named .png")]
    public void Embed_DamagedImage_Named(string kind)
    {
        var dir = Case("embed-damaged-" + kind);
        var bytes = kind switch { "truncated" => Truncated(images[0]), "empty" => [], _ => Encoding.UTF8.GetBytes("hello") };
        var data = FacesWith(dir, "bad.png", bytes);
        var csv = Path.Combine(dir, "e.csv");
        AssertFails(Run(EmbedArgs(model, data, csv)), Path.Combine(data, "id000", "bad.png"), "--skip-corrupt");
        Assert.IsFalse(File.Exists(csv));
    }

    [TestMethod]
    public void Embed_SkipCorrupt_WritesTheRestAndCounts()
    {
        var dir = Case("embed-skip");
        var data = FacesWith(dir, "bad.png", Truncated(images[0]));
        var csv = Path.Combine(dir, "e.csv");
        var r = Run(EmbedArgs(model, data, csv, "--skip-corrupt"));
        Assert.AreEqual(0, r.Code, r.ToString());
        StringAssert.Contains(r.Out, "Skipped 1 image(s)");
        Assert.HasCount(images.Count + 1, File.ReadAllLines(csv));
    }

    [TestMethod]
    public void Embed_Photo_RefusedUnlessResize()
    {
        var dir = Case("embed-photo");
        var photo = Path.Combine(dir, "photo.png");
        File.WriteAllBytes(photo, Png(1920, 1080));
        var csv = Path.Combine(dir, "e.csv");
        AssertFails(Run(EmbedArgs(model, photo, csv)), "photo.png' is 1920x1080, far from square", "--resize");
        Assert.IsFalse(File.Exists(csv));
        var r = Run(EmbedArgs(model, photo, csv, "--resize"));
        Assert.AreEqual(0, r.Code, r.ToString());
        Assert.HasCount(2, File.ReadAllLines(csv));
    }

    [TestMethod]
    public void Embed_CropOfAnotherSize_Resized()
    {
        var dir = Case("embed-crop");
        var crop = Path.Combine(dir, "crop.png");
        File.WriteAllBytes(crop, Png(64, 64));
        var r = Run(EmbedArgs(model, crop, Path.Combine(dir, "e.csv")));
        Assert.AreEqual(0, r.Code, r.ToString());
        StringAssert.Contains(r.Out, "1 image(s) are not 32x32: resized to the model input (face crops of another size).");
    }

    [TestMethod]
    public void Embed_OnnxModel_GivesTheModelZipsEmbeddings()
    {
        var dir = Case("embed-onnx");
        var fromZip = Path.Combine(dir, "zip.csv");
        var fromOnnx = Path.Combine(dir, "onnx.csv");
        Assert.AreEqual(0, Run(EmbedArgs(model, faces, fromZip)).Code);
        var r = Run(EmbedArgs(onnx, faces, fromOnnx));
        Assert.AreEqual(0, r.Code, r.ToString());
        var a = File.ReadAllLines(fromZip);
        var b = File.ReadAllLines(fromOnnx);
        Assert.AreEqual(a[0], b[0]);
        Assert.HasCount(a.Length, b);
        for (int i = 1; i < a.Length; i++)
        {
            var x = a[i].Split(',');
            var y = b[i].Split(',');
            Assert.AreEqual(x[0], y[0]);
            for (int k = 1; k < x.Length; k++)
                Assert.AreEqual(float.Parse(x[k], System.Globalization.CultureInfo.InvariantCulture), float.Parse(y[k], System.Globalization.CultureInfo.InvariantCulture), 1e-3f, $"{x[0]} column {k}");
        }
    }

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Embed_ReadOnlyCsv_FailsAndKeepsIt()
    {
        var dir = Case("embed-readonly");
        var csv = Path.Combine(dir, "e.csv");
        File.WriteAllText(csv, "old");
        File.SetUnixFileMode(csv, UnixFileMode.UserRead);
        AssertFails(Run(EmbedArgs(model, faces, csv)), "the file exists and is read-only");
        Assert.AreEqual("old", File.ReadAllText(csv));
    }

    [TestMethod]
    public void Embed_CsvFolderMissing() =>
        AssertFails(Run(EmbedArgs(model, faces, Path.Combine(root, "nowhere", "e.csv"))), "Cannot write the CSV '", "does not exist");

    // ---------------------------------------------------------------- evaluate

    private static Result Evaluate(string data, string protocol, string output, params string[] more)
        => Run(["evaluate", "--model", model, "--data", data, "--protocol", protocol, "--out", output, .. more]);

    [TestMethod]
    public void Evaluate_MissingData() =>
        AssertFails(Evaluate(Path.Combine(root, "none.bin"), "Bin", Path.Combine(Case("eval-nodata"), "r")), "none.bin' does not exist");

    [TestMethod]
    public void Evaluate_OutIsAFile()
    {
        var dir = Case("eval-outfile");
        var file = Path.Combine(dir, "r");
        File.WriteAllText(file, "x");
        AssertFails(Evaluate(faces, "Folder", file), "--out '", "is a file; give a folder");
    }

    [TestMethod]
    public void Evaluate_CorruptImageInFolder_NamedAndNoOutFolder()
    {
        var dir = Case("eval-corrupt");
        var data = FacesWith(dir, "bad.png", Truncated(images[0]));
        var output = Path.Combine(dir, "r");
        AssertFails(Evaluate(data, "Folder", output), Path.Combine(data, "id000", "bad.png"), "--skip-corrupt");
        Assert.IsFalse(Directory.Exists(output), "a failed evaluate leaves no --out folder");
    }

    [TestMethod]
    public void Evaluate_FolderOfLargerCrops_Resized()
    {
        var dir = Case("eval-crops");
        var data = Path.Combine(dir, "faces");
        FaceFolder.Write(data, identities: 3, samples: 3, size: 64);
        var r = Run("evaluate", "--model", onnx, "--data", data, "--protocol", "Folder", "--out", Path.Combine(dir, "r"));
        Assert.AreEqual(0, r.Code, r.ToString());
        StringAssert.Contains(r.Out, "9 image(s) are not 32x32: resized to the model input");
    }

    [TestMethod]
    public void Evaluate_FolderWithPhoto_Refused()
    {
        var dir = Case("eval-photo");
        var data = FacesWith(dir, "photo.png", Png(640, 480));
        AssertFails(Evaluate(data, "Folder", Path.Combine(dir, "r")), "photo.png' is 640x480, far from square", "--resize");
    }

    [TestMethod]
    public void Evaluate_OnnxGivingNaN_NamesTheModel()
    {
        // The standalone graph normalises with the constant 127.5 (float32 bytes 00 00 FF 42): made NaN, every
        // embedding is NaN, which used to surface as "scores[0] is NaN" naming nothing.
        var dir = Case("eval-nan");
        var bytes = File.ReadAllBytes(onnx);
        int replaced = 0;
        for (int i = 0; i + 4 <= bytes.Length; i++)
        {
            if (bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 0xFF && bytes[i + 3] == 0x42)
            {
                bytes[i + 2] = 0xC0;
                bytes[i + 3] = 0x7F;
                replaced++;
            }
        }
        Assert.IsGreaterThan(0, replaced);
        var broken = Path.Combine(dir, "nan.onnx");
        File.WriteAllBytes(broken, bytes);
        var output = Path.Combine(dir, "r");
        AssertFails(Run("evaluate", "--model", broken, "--data", faces, "--protocol", "Folder", "--out", output), $"Model '{broken}' gives a NaN or infinite embedding for images item 0");
        Assert.IsFalse(Directory.Exists(output));
    }

    private static List<VerificationPair> Pairs(int count)
    {
        var byIdentity = images.GroupBy(p => Path.GetFileName(Path.GetDirectoryName(p)!)).Select(g => g.ToList()).ToList();
        var pairs = new List<VerificationPair>();
        for (int k = 0; pairs.Count < count; k++)
        {
            var a = byIdentity[k % 4];
            var b = byIdentity[(k + 1) % 4];
            pairs.Add(k % 2 == 0
                ? new VerificationPair(File.ReadAllBytes(a[k % 4]), File.ReadAllBytes(a[(k + 1) % 4]), true)
                : new VerificationPair(File.ReadAllBytes(a[k % 4]), File.ReadAllBytes(b[k % 4]), false));
        }
        return pairs;
    }

    private static string Bin(string dir, string name, List<VerificationPair> pairs, int protocol = 2)
    {
        var path = Path.Combine(dir, name);
        new VerificationPairs(pairs).Write(path, protocol);
        return path;
    }

    [TestMethod]
    public void Evaluate_BinWithNonImageBytes_NamesThePair()
    {
        var dir = Case("eval-binbytes");
        var pairs = Pairs(12);
        pairs[5] = new VerificationPair(pairs[5].ImageA, Encoding.UTF8.GetBytes("not an image"), pairs[5].IsSame);
        var bin = Bin(dir, "set.bin", pairs);
        AssertFails(Evaluate(bin, "Bin", Path.Combine(dir, "r")), "set.bin': pair 5 (0-based), its second image: ", "--skip-corrupt");
    }

    [TestMethod]
    public void Evaluate_BinWithFourPairs_FoldsReducedAndSaid()
    {
        var dir = Case("eval-bin4");
        var r = Evaluate(Bin(dir, "four.bin", Pairs(4)), "Bin", Path.Combine(dir, "r"));
        Assert.AreEqual(0, r.Code, r.ToString());
        StringAssert.Contains(File.ReadAllText(Path.Combine(dir, "r", "report.md")), "one fold per pair");
    }

    [TestMethod]
    public void Evaluate_BinWithOnePair_Refused() =>
        AssertFails(Evaluate(Bin(Case("eval-bin1"), "one.bin", Pairs(1)), "Bin", Path.Combine(root, "case-eval-bin1", "r")), "holds 1 pair(s)");

    [TestMethod]
    public void Evaluate_TruncatedBin_Named()
    {
        var dir = Case("eval-bintrunc");
        var bin = Bin(dir, "set.bin", Pairs(12));
        File.WriteAllBytes(bin, File.ReadAllBytes(bin).AsSpan(0, (int)(new FileInfo(bin).Length / 2)).ToArray());
        AssertFails(Evaluate(bin, "Bin", Path.Combine(dir, "r")), "set.bin' is truncated at offset");
    }

    [TestMethod]
    public void Evaluate_HostilePickle_Refused()
    {
        var dir = Case("eval-hostile");
        var bin = Path.Combine(dir, "evil.bin");
        // pickle.dumps(os.system('echo pwned')) at protocol 0: a GLOBAL posix.system then REDUCE.
        File.WriteAllBytes(bin, Encoding.ASCII.GetBytes("cposix\nsystem\np0\n(Vecho pwned\np1\ntp2\nRp3\n."));
        AssertFails(Evaluate(bin, "Bin", Path.Combine(dir, "r")), "evil.bin", "refuses opcode GLOBAL", "'posix.system'");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    public void Evaluate_OldPickleProtocols_ReadLikeTheOthers(int protocol)
    {
        var dir = Case("eval-protocol" + protocol);
        var pairs = Pairs(12);
        var bin = Path.Combine(dir, "old.bin");
        File.WriteAllBytes(bin, PythonPickle(pairs, protocol));
        var r = Evaluate(bin, "Bin", Path.Combine(dir, "r"));
        Assert.AreEqual(0, r.Code, r.ToString());
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "r", "report.json")))!;
        Assert.AreEqual(10, json["tenFold"]!.AsArray()[0]!["folds"]!.GetValue<int>());
    }

    /// <summary>(bins, issame) as Python 3's pickle writes it at protocol 0 or 1 (the Data tests check those bytes against Python's).</summary>
    private static byte[] PythonPickle(List<VerificationPair> pairs, int protocol)
    {
        var o = new MemoryStream();
        void Ascii(string text) => o.Write(Encoding.ASCII.GetBytes(text));
        int memo = 0;
        void Put()
        {
            if (protocol == 0)
                Ascii($"p{memo++}\n");
            else
                o.Write([(byte)'q', (byte)memo++]);
        }
        void Str(string text)
        {
            if (protocol == 0)
            {
                o.WriteByte((byte)'V');
                foreach (char c in text)
                {
                    if (c is '\\' or '\0' or '\n' or '\r' or '\x1a')
                        Ascii($"\\u{(int)c:x4}");
                    else
                        o.WriteByte((byte)c);
                }
                o.WriteByte((byte)'\n');
            }
            else
            {
                var utf8 = Encoding.UTF8.GetBytes(text);
                o.WriteByte((byte)'X');
                o.Write(BitConverter.GetBytes(utf8.Length));
                o.Write(utf8);
            }
            Put();
        }
        Ascii("(");
        if (protocol == 0)
            Ascii("(l");
        else
            Ascii("](");
        Put();
        foreach (var bytes in pairs.SelectMany(p => new[] { p.ImageA, p.ImageB }))
        {
            Ascii("c_codecs\nencode\n");
            Put();
            Ascii("(");
            Str(Encoding.Latin1.GetString(bytes));
            Str("latin1");
            Ascii("t");
            Put();
            Ascii("R");
            Put();
            if (protocol == 0)
                Ascii("a");
        }
        if (protocol == 1)
            Ascii("e");
        Ascii(protocol == 0 ? "(l" : "](");
        Put();
        foreach (var pair in pairs)
            Ascii(pair.IsSame ? "I01\n" : "I00\n") ;
        if (protocol == 0)
        {
            // Protocol 0 appends each item: rewrite as MARK LIST, items with APPEND.
            o.SetLength(o.Length - pairs.Count * 4);
            foreach (var pair in pairs)
                Ascii(pair.IsSame ? "I01\na" : "I00\na");
        }
        else
        {
            Ascii("e");
        }
        Ascii("t");
        Put();
        Ascii(".");
        return o.ToArray();
    }

    // ---------------------------------------------------------------- cancellation and inputs

    private static Result RunCancelled(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        int code = CliApp.Run(args, FaceFolder.Console(stdout), FaceFolder.Console(stderr), cancelled.Token);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    [TestMethod]
    public void Train_Cancelled_Exit130AndNoModel()
    {
        var dir = Case("cancel-train");
        var output = Path.Combine(dir, "m.zip");
        var r = RunCancelled(TrainArgs(faces, output));
        Assert.AreEqual(ExitCodes.Cancelled, r.Code, r.ToString());
        Assert.AreEqual("Training cancelled.", r.Err.Trim(), r.ToString());
        Assert.IsFalse(File.Exists(output));
        AssertNoLeftovers(dir);
    }

    [TestMethod]
    public void Evaluate_Cancelled_Exit130AndNoOutFolder()
    {
        var dir = Case("cancel-evaluate");
        var output = Path.Combine(dir, "r");
        var r = RunCancelled("evaluate", "--model", model, "--data", faces, "--protocol", "Folder", "--out", output);
        Assert.AreEqual(ExitCodes.Cancelled, r.Code, r.ToString());
        Assert.AreEqual("Evaluation cancelled; no report written.", r.Err.Trim(), r.ToString());
        Assert.IsFalse(Directory.Exists(output));
    }

    [TestMethod]
    public void Embed_Cancelled_Exit130AndNoCsv()
    {
        var dir = Case("cancel-embed");
        var csv = Path.Combine(dir, "e.csv");
        var r = RunCancelled(EmbedArgs(model, faces, csv));
        Assert.AreEqual(ExitCodes.Cancelled, r.Code, r.ToString());
        Assert.AreEqual("Embedding cancelled; no CSV written.", r.Err.Trim(), r.ToString());
        Assert.IsFalse(File.Exists(csv));
        AssertNoLeftovers(dir);
    }

    [TestMethod]
    public void Commands_NeverModifyTheirInputs()
    {
        var dir = Case("inputs");
        var files = Directory.GetFiles(faces, "*", SearchOption.AllDirectories).Append(model).Append(onnx).Order(StringComparer.Ordinal).ToList();
        string Digest() => string.Join("\n", files.Select(f => f + " " + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))) + " " + File.GetLastWriteTimeUtc(f).Ticks));
        var before = Digest();
        Assert.AreEqual(0, Run(EmbedArgs(model, faces, Path.Combine(dir, "a.csv"))).Code);
        Assert.AreEqual(0, Run(EmbedArgs(onnx, faces, Path.Combine(dir, "b.csv"))).Code);
        Assert.AreEqual(0, Run("evaluate", "--model", model, "--data", faces, "--protocol", "Folder", "--out", Path.Combine(dir, "r")).Code);
        Assert.AreEqual(0, Run(TrainArgs(faces, Path.Combine(dir, "m.zip"))).Code);
        Assert.AreEqual(before, Digest());
        Assert.IsEmpty(Directory.GetFiles(faces, "*", SearchOption.AllDirectories).Except(files), "nothing written into the data folder");
    }

    // ---------------------------------------------------------------- generate

    [TestMethod]
    public void Generate_UnknownPreset()
    {
        var output = Path.Combine(Case("generate-preset"), "set.bin");
        AssertFails(Run("generate", "--out", output, "--format", "Bin", "--preset", "huge"), "SynthFace preset 'huge' is unknown: use small, full or tiny.");
        Assert.IsFalse(File.Exists(output));
    }
}

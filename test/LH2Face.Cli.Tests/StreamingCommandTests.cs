using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.LH2Face.Data.Formats;

namespace LH2Face.Cli.Tests;

/// <summary>lh2face train on an insightface RecordIO pack, streamed (--data-loading), and a streamed run killed with SIGKILL and resumed.</summary>
[TestClass]
public sealed class StreamingCommandTests
{
    private string root = "";

    [TestInitialize]
    public void CreateFolder() => root = Directory.CreateTempSubdirectory("lh2face-cli-stream-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    /// <summary>An image folder and a RecordIO pack of the same PNG files (labels in the folder's identity order).</summary>
    private (string Folder, string Pack) FolderAndPack(int identities, int samples, int size)
    {
        var folder = Path.Combine(root, "faces");
        FaceFolder.Write(folder, identities, samples, size);
        var pack = Path.Combine(root, "pack");
        using (var writer = new InsightFaceRecordWriter(pack, size))
        {
            foreach (var entry in new ImageFolderReader(folder).Entries)
                writer.WriteImage(entry.LabelIndex, File.ReadAllBytes(entry.Path));
        }
        return (folder, pack);
    }

    private static string[] Args(string data, string model, string log, params string[] more)
        => Args(data, model, log, inputSize: 32, epochs: 2, batchSize: 8, more);

    private static string[] Args(string data, string model, string log, int inputSize, int epochs, int batchSize, params string[] more)
        => ["train", "--data", data, "--out", model, "--input-size", $"{inputSize}", "--embedding-size", "16", "--epochs", $"{epochs}", "--batch-size", $"{batchSize}",
            "--device", "Cpu", "--seed", "5", "--log", log, .. more];

    /// <summary>The log's epoch lines without their time stamps.</summary>
    private static string[] EpochLines(string log)
        => File.ReadAllLines(log).Select(l => l[(l.IndexOf(' ') + 1)..]).Where(l => l.StartsWith("Epoch ", StringComparison.Ordinal)).ToArray();

    [TestMethod]
    public void Train_RecordIoPackStreamed_SameEpochLossesAsTheCachedFolderAndTheModelEmbeds()
    {
        var (folder, pack) = FolderAndPack(identities: 4, samples: 6, size: 40);
        var folderLog = Path.Combine(root, "folder.log");
        var output = new StringWriter();
        int code = CliApp.Run(Args(folder, Path.Combine(root, "folder.zip"), folderLog, "--data-loading", "Cache"), FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());

        var packLog = Path.Combine(root, "pack.log");
        var model = Path.Combine(root, "pack.zip");
        output = new StringWriter();
        code = CliApp.Run(Args(Path.Combine(pack, "train.rec"), model, packLog, "--max-cache-mb", "0", "--loader-threads", "2"), FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());
        StringAssert.Contains(output.ToString(), "24 images of 4 identities in RecordIO pack");
        StringAssert.Contains(File.ReadAllText(packLog), "Training images: streamed (24 images, 2 decoding thread(s); 24 images need at least 73728 bytes of pixels, more than MaxCacheBytes = 0 bytes).");
        StringAssert.Contains(File.ReadAllText(folderLog), "Training images: cached in memory (24 images, 73728 bytes of pixels).");
        var epochs = EpochLines(folderLog);
        Assert.AreEqual(2, epochs.Length);
        CollectionAssert.AreEqual(epochs, EpochLines(packLog));

        var csv = Path.Combine(root, "embeddings.csv");
        output = new StringWriter();
        code = EmbedCommand.Run(new EmbedSettings { ModelPath = model, ImagesPath = folder, OutputPath = csv }, FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());
        var row = File.ReadAllLines(csv)[1].Split(',');
        var embedding = row.Skip(2).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.AreEqual(16, embedding.Length);
        Assert.AreEqual(1.0, Math.Sqrt(embedding.Sum(v => v * v)), 1e-4);
    }

    [TestMethod]
    public void Train_StreamFlagOnAFolder_Streams()
    {
        var folder = Path.Combine(root, "faces");
        FaceFolder.Write(folder, identities: 2, samples: 4, size: 32);
        var log = Path.Combine(root, "train.log");
        var output = new StringWriter();
        int code = CliApp.Run(Args(folder, Path.Combine(root, "m.zip"), log, "--data-loading", "Stream", "--loader-threads", "1"), FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(0, code, output.ToString());
        StringAssert.Contains(File.ReadAllText(log), "Training images: streamed (8 images, 1 decoding thread(s); DataLoading = Stream).");
    }

    [TestMethod]
    public void Train_PackRecordThatDoesNotDecode_FailsNamingTheRecordAndWritesNoModel()
    {
        var folder = Path.Combine(root, "faces");
        FaceFolder.Write(folder, identities: 2, samples: 4, size: 32);
        var pack = Path.Combine(root, "pack");
        using (var writer = new InsightFaceRecordWriter(pack, 32))
        {
            foreach (var entry in new ImageFolderReader(folder).Entries)
                writer.WriteImage(entry.LabelIndex, entry.LabelIndex == 1 && entry.Path.EndsWith("002.png", StringComparison.Ordinal) ? "not an image"u8 : File.ReadAllBytes(entry.Path));
        }
        var model = Path.Combine(root, "m.zip");
        var output = new StringWriter();
        int code = CliApp.Run(Args(pack, model, Path.Combine(root, "l.log"), inputSize: 32, epochs: 2, batchSize: 4, "--data-loading", "Stream", "--loader-threads", "2"), FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(1, code, output.ToString());
        StringAssert.Contains(output.ToString(), "train.rec' record 7 at offset");
        StringAssert.Contains(output.ToString(), "the 12 image bytes could not be decoded");
        Assert.IsFalse(output.ToString().Contains("One or more errors occurred", StringComparison.Ordinal), "the decoding thread's own error, not an AggregateException");
        Assert.IsFalse(File.Exists(model));
    }

    [TestMethod]
    public void Train_NotAPack_FailsNamingTheFile()
    {
        var file = Path.Combine(root, "faces.zip");
        File.WriteAllText(file, "not a pack");
        var output = new StringWriter();
        int code = CliApp.Run(Args(file, Path.Combine(root, "m.zip"), Path.Combine(root, "l.log")), FaceFolder.Console(output), CancellationToken.None);
        Assert.AreEqual(1, code);
        StringAssert.Contains(output.ToString().Replace("\n", "", StringComparison.Ordinal), "is a file but not an insightface RecordIO pack (.rec)");
    }

    /// <summary>
    /// A streamed run in its own process, killed with SIGKILL once a mid-epoch checkpoint exists, then resumed: the epochs
    /// logged after the resume equal an uninterrupted run's, loss for loss.
    /// </summary>
    [TestMethod]
    public void Train_StreamedRunKilledMidEpoch_ResumesToTheUninterruptedLosses()
    {
        var (_, pack) = FolderAndPack(identities: 6, samples: 8, size: 40); // 48 images, batch 4: 12 steps per epoch
        string[] Flags(string name, params string[] more)
            => Args(pack, Path.Combine(root, name + ".zip"), Path.Combine(root, name + ".log"), inputSize: 64, epochs: 3, batchSize: 4,
                ["--data-loading", "Stream", "--loader-threads", "2", .. more]);

        // Every run in its own process with the same environment (one torch thread), so only the kill differs.
        var cli = Path.Combine(AppContext.BaseDirectory, "lh2face.dll");
        Process Start(string[] flags)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(cli);
            foreach (var arg in flags)
                start.ArgumentList.Add(arg);
            start.Environment["OMP_NUM_THREADS"] = "1";
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }
        void Complete(string[] flags, string name)
        {
            using var process = Start(flags);
            Assert.IsTrue(process.WaitForExit(TimeSpan.FromMinutes(5)), $"{name} run finished");
            Assert.AreEqual(0, process.ExitCode, $"{name} run: exit code");
        }

        Complete(Flags("full"), "uninterrupted");
        var full = EpochLines(Path.Combine(root, "full.log"));
        Assert.AreEqual(3, full.Length);

        var checkpoints = Path.Combine(root, "ckpt");
        using (var killed = Start(Flags("killed", "--checkpoint-dir", checkpoints, "--checkpoint-every", "5")))
        {
            var latest = Path.Combine(checkpoints, "latest");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(latest) && !killed.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(5);
            Assert.IsFalse(killed.HasExited, "the run ended before its first checkpoint: nothing to kill");
            killed.Kill(); // SIGKILL: no finally block, no flush
            killed.WaitForExit();
        }
        int step = int.Parse(File.ReadAllText(Path.Combine(checkpoints, "latest"))["step-".Length..], CultureInfo.InvariantCulture);
        Assert.IsTrue(step % 12 != 0 && step < 36, $"killed after the checkpoint of step {step}: mid-epoch and before the end");

        Complete(Flags("resumed", "--resume", checkpoints), "resumed");
        StringAssert.Contains(File.ReadAllText(Path.Combine(root, "resumed.log")), $"step-{step:D8}' at step {step} of 36.");
        var resumed = EpochLines(Path.Combine(root, "resumed.log"));
        Assert.AreEqual(3 - step / 12, resumed.Length, string.Join("\n", resumed));
        for (int i = 0; i < resumed.Length; i++)
            Assert.AreEqual(full[step / 12 + i], resumed[i]);
    }
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Synthetic;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary><c>lh2face train</c>: trains on an identity folder and saves an ML.NET model zip.</summary>
public static class TrainCommand
{
    /// <summary>Exit code of a run stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int CancelledExitCode = ExitCodes.Cancelled;

    /// <summary>One training row: the image file and its identity (the sub-folder name).</summary>
    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";

        public string Identity { get; set; } = "";
    }

    /// <summary>
    /// Runs the command; returns the process exit code (<see cref="ExitCodes"/>: 0 ok, 1 error, 130 cancelled). Progress and
    /// results go to <paramref name="console"/>, errors and the cancellation notice to <paramref name="errors"/> (default: the same console).
    /// </summary>
    public static int Run(TrainSettings settings, IAnsiConsole console, CancellationToken cancellationToken, CliErrors? errors = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        errors ??= new CliErrors(console);
        try
        {
            return RunCore(settings, console, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            errors.Line("[yellow]Training cancelled.[/]" + (settings.CheckpointDirectory is null ? ""
                : $" Checkpoints written so far stay in '{Markup.Escape(settings.CheckpointDirectory)}'; continue with --resume."));
            return CancelledExitCode;
        }
        catch (Exception e)
        {
            return errors.Print(CliFlags.Translate(e));
        }
    }

    /// <summary>
    /// Without --data: the train split of the SynthFace "small" protocol (200 identities x 20 images at
    /// 112 px), written once beside the model as an identity folder with metadata.csv.
    /// </summary>
    private static string WriteSynthFaceTrainSet(string modelPath, IAnsiConsole console)
    {
        var protocol = SynthFaceProtocolOptions.Small();
        var folder = Path.Combine(Path.GetDirectoryName(modelPath)!, "synthface-small-train");
        if (!Directory.Exists(folder))
        {
            console.MarkupLine(Markup.Escape($"No --data given: writing the SynthFace small train set ({protocol.TrainIdentities} identities x {protocol.TrainImagesPerIdentity} images) to '{folder}'."));
            var generator = new SynthFaceGenerator(SynthFaceProtocol.Create(protocol).TrainOptions);
            SynthFaceImageFolderWriter.Write(folder, generator, protocol.TrainIdentities, protocol.TrainImagesPerIdentity);
        }
        else
        {
            console.MarkupLine(Markup.Escape($"No --data given: training on the SynthFace small train set in '{folder}'."));
        }
        return folder;
    }

    /// <summary>The trainer options the flags give (the preset's, with the flags set over them).</summary>
    private static LH2FaceTrainer.Options Options(TrainSettings s, CancellationToken cancellationToken)
    {
        var options = LH2FaceTrainer.Options.FromPreset(s.Preset);
        options.Backbone = s.Backbone;
        options.InputSize = s.InputSize;
        options.EmbeddingSize = s.EmbeddingSize;
        options.Epochs = s.Epochs;
        options.BatchSize = s.BatchSize;
        options.LearningRate = s.LearningRate;
        options.Device = s.Device;
        options.NativeHeap = s.NativeHeap;
        options.Seed = s.Seed;
        options.CheckpointDirectory = s.CheckpointDirectory;
        options.CheckpointEveryNSteps = s.CheckpointEveryNSteps;
        options.ResumeFrom = s.ResumeFrom;
        options.UseRenderer = s.UseRenderer;
        options.RendererResolution = s.RendererResolution;
        options.RendererLearningRate = s.RendererLearningRate;
        options.RendererFieldOfView = s.RendererFieldOfView;
        options.CancellationToken = cancellationToken;
        if (s.Head is LH2FaceHead head)
            options.Head = head;
        return options;
    }

    private static int RunCore(TrainSettings s, IAnsiConsole console, CancellationToken cancellationToken)
    {
        // Check everything that can be checked before minutes of training.
        var modelPath = OutputFile.CheckWritable(s.OutputPath, "model");
        var onnxPath = s.OnnxPath is null ? null : OutputFile.CheckWritable(s.OnnxPath, "ONNX file");
        if (s.MontagePath is not null && !s.UseRenderer)
            throw new CliException("--montage needs --renderer: the montage shows what the renderer makes of a few images.");
        var montagePath = s.UseRenderer ? OutputFile.CheckWritable(s.MontagePath ?? RendererMontage.DefaultPath(modelPath), "montage") : null;
        var logPath = s.LogPath is null ? null : OutputFile.CheckWritable(s.LogPath, "log file");
        if (s.ResumeFrom is not null && !Directory.Exists(s.ResumeFrom))
            throw new CliException($"Resume folder '{s.ResumeFrom}' does not exist.");
        var options = Options(s, cancellationToken);
        _ = new MLContext(s.Seed).Transforms.LH2Face(options); // validates every option now, not after the images are read
        var dataFolder = s.DataFolder ?? WriteSynthFaceTrainSet(modelPath, console);
        var rows = ImageFiles.KeepDecodable(ImageFiles.ReadIdentityFolder(dataFolder, out var skipped), r => r.Path, s.SkipCorrupt, console, new ImagePolicy(s.InputSize, s.Resize));
        int identities = rows.Select(r => r.Identity).Distinct(StringComparer.Ordinal).Count();
        if (identities < 2)
            throw new CliException($"Data folder '{dataFolder}' has decodable images of only {identities} identity; training needs at least 2.");
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} images of {identities} identities in '{dataFolder}'.")));
        if (skipped.Count > 0)
            console.MarkupLine($"[yellow]Skipped {skipped.Count} sub-folder(s) without images:[/] {Markup.Escape(string.Join(", ", skipped.Take(10)))}{(skipped.Count > 10 ? ", ..." : "")}");

        var ml = new MLContext(s.Seed);
        // The log is written as training goes (it is the record of a run, read while it runs), not moved into place at the end.
        using var log = logPath is null ? null : new StreamWriter(logPath, append: false) { AutoFlush = true };
        if (log is not null)
        {
            ml.Log += (_, e) =>
            {
                if (e.Source == "LH2Face" && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info)
                    lock (log)
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss} {e.RawMessage}"));
            };
        }
        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new ImageRow { ImagePath = r.Path, Identity = r.Identity }));
        var clock = Stopwatch.StartNew();
        TransformerChain<LH2FaceTransformer>? model = null;
        TrainingProgress? reporter = null;
        try
        {
            console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("loading images", maxValue: 1);
                    task.IsIndeterminate = true;
                    reporter = new TrainingProgress(task, s.Epochs);
                    options.Progress = reporter;
                    var pipeline = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageRow.ImagePath))
                        .Append(ml.Transforms.Conversion.MapValueToKey("Label", nameof(ImageRow.Identity)))
                        .Append(ml.Transforms.LH2Face(options));
                    model = pipeline.Fit(data);
                    task.Value = task.MaxValue;
                    task.StopTask();
                });

            var face = model!.LastTransformer;
            OutputFile.WriteAtomically(modelPath, temp => ml.Model.Save(model, data.Schema, temp));
            if (onnxPath is not null)
                face.ExportOnnx(onnxPath);
            string? montageNote = null;
            if (montagePath is not null)
            {
                var (images, note) = MontageImages(s, rows);
                try
                {
                    RendererMontage.Write(montagePath, face, images);
                    montageNote = $"{Markup.Escape(montagePath)} ({images.Count} {note})";
                }
                finally
                {
                    foreach (var image in images)
                        image.Dispose();
                }
            }
            clock.Stop();

            var summary = face.TrainingSummary;
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            grid.AddRow("Steps", summary.Steps.ToString(CultureInfo.InvariantCulture) + (summary.Steps != summary.PlannedSteps ? $" of {summary.PlannedSteps} planned" : ""));
            grid.AddRow("Last epoch loss", summary.EpochLosses.Count > 0 ? summary.EpochLosses[^1].ToString("F4", CultureInfo.InvariantCulture) : "-");
            grid.AddRow("Training time", Format(summary.Duration));
            grid.AddRow("Total time", Format(clock.Elapsed));
            grid.AddRow("Model", Markup.Escape(modelPath));
            if (onnxPath is not null)
                grid.AddRow("ONNX", Markup.Escape(onnxPath));
            if (montageNote is not null)
                grid.AddRow("Montage", montageNote);
            if (s.CheckpointDirectory is not null)
                grid.AddRow("Checkpoints", Markup.Escape(Path.GetFullPath(s.CheckpointDirectory)));
            console.MarkupLine("[green]Training finished.[/]");
            console.Write(grid);
            return 0;
        }
        finally
        {
            model?.Dispose();
        }
    }

    /// <summary>
    /// The montage's images: without --data, held-out faces of the SynthFace small protocol's test
    /// identities (identity i, sample i); with --data, the first image of each of the first identities
    /// (training images: the folder has no held-out split).
    /// </summary>
    private static (List<MLImage> Images, string Note) MontageImages(TrainSettings s, IReadOnlyList<(string Path, string Identity)> rows)
    {
        if (s.DataFolder is null)
        {
            var generator = new SynthFaceGenerator(SynthFaceProtocol.Create(SynthFaceProtocolOptions.Small()).TestOptions);
            return (Enumerable.Range(0, RendererMontage.DefaultImages).Select(i => generator.Generate(i, i).ToImage()).ToList(), "held-out SynthFace test faces");
        }
        var firsts = rows.GroupBy(r => r.Identity, StringComparer.Ordinal).Select(g => g.First().Path).Take(RendererMontage.DefaultImages).ToList();
        return (firsts.Select(MLImage.CreateFromFile).ToList(), "training images, first of each identity");
    }

    private static string Format(TimeSpan t) => t.ToString(t.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss\.f", CultureInfo.InvariantCulture);
}

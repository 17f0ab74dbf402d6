using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Formats;
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
        options.Precision = s.Precision;
        options.RecomputeActivations = s.RecomputeActivations;
        options.DataLoading = s.DataLoading;
        options.MaxCacheBytes = s.MaxCacheMegabytes < 0 || s.MaxCacheMegabytes > long.MaxValue >> 20
            ? throw new CliException($"--max-cache-mb is {s.MaxCacheMegabytes}; use 0 (always stream) or a size in MB.")
            : s.MaxCacheMegabytes << 20;
        options.LoaderThreads = s.LoaderThreads;
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
        var ml = new MLContext(s.Seed);
        using var input = RecordPack(dataFolder) is { } packPath ? PackInput(packPath, s, ml, console) : FolderInput(dataFolder, s, ml, console);

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
                    var trained = ml.Transforms.LH2Face(options).Fit(input.TrainerInput);
                    model = new TransformerChain<LH2FaceTransformer>(input.Prefix.Append(trained).ToArray());
                    task.Value = task.MaxValue;
                    task.StopTask();
                });

            var face = model!.LastTransformer;
            OutputFile.WriteAtomically(modelPath, temp => ml.Model.Save(model, input.ModelInput.Schema, temp));
            if (onnxPath is not null)
                face.ExportOnnx(onnxPath);
            string? montageNote = null;
            if (montagePath is not null)
            {
                var (images, note) = MontageImages(s, input);
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
    /// (training images: the folder or pack has no held-out split).
    /// </summary>
    private static (List<MLImage> Images, string Note) MontageImages(TrainSettings s, TrainingInput input)
    {
        if (s.DataFolder is null)
        {
            var generator = new SynthFaceGenerator(SynthFaceProtocol.Create(SynthFaceProtocolOptions.Small()).TestOptions);
            return (Enumerable.Range(0, RendererMontage.DefaultImages).Select(i => generator.Generate(i, i).ToImage()).ToList(), "held-out SynthFace test faces");
        }
        return (input.FirstImages(RendererMontage.DefaultImages), "training images, first of each identity");
    }

    /// <summary>
    /// What training reads: the view the trainer fits on (read by position, so it can be streamed), the view the saved model
    /// takes as input, and the fitted transforms from the one to the other that start the saved model.
    /// </summary>
    private sealed class TrainingInput(IDataView trainerInput, IDataView modelInput, ITransformer[] prefix, Func<int, List<MLImage>> firstImages, IDisposable? owned) : IDisposable
    {
        public IDataView TrainerInput => trainerInput;

        public IDataView ModelInput => modelInput;

        public ITransformer[] Prefix => prefix;

        /// <summary>The first image of each of the first <paramref name="count"/> identities.</summary>
        public List<MLImage> FirstImages(int count) => firstImages(count);

        public void Dispose() => owned?.Dispose();
    }

    /// <summary>The first step of every saved model: the image file of an (ImagePath, Identity) row into the "Image" column.</summary>
    private static ImageLoadingEstimator LoadImages(MLContext ml)
        => ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageRow.ImagePath));

    /// <summary>The RecordIO pack <paramref name="data"/> names (a .rec file, or a folder holding train.rec), or null for an image folder.</summary>
    private static string? RecordPack(string data)
    {
        if (File.Exists(data))
        {
            return Path.GetExtension(data).Equals(".rec", StringComparison.OrdinalIgnoreCase)
                ? data
                : throw new CliException($"--data '{data}' is a file but not an insightface RecordIO pack (.rec): give an image folder, train.rec, or the folder holding train.rec and train.idx.");
        }
        return Directory.Exists(data) && File.Exists(Path.Combine(data, "train.rec")) ? data : null;
    }

    /// <summary>
    /// An insightface pack: its view goes straight to the trainer (Image decoded on demand, Label the record's class), so it
    /// streams when it does not fit the cache. --skip-corrupt makes the view sequential
    /// (the corrupt records are known only after a pass), so such a pack is cached.
    /// </summary>
    private static TrainingInput PackInput(string path, TrainSettings s, MLContext ml, IAnsiConsole console)
    {
        var pack = InsightFaceRecordReader.Open(path, s.SkipCorrupt);
        try
        {
            if (pack.NumClasses < 2)
                throw new CliException($"RecordIO pack '{path}' has {pack.NumClasses} identity; training needs at least 2.");
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{pack.ImageKeys.Count} images of {pack.NumClasses} identities in RecordIO pack '{pack.RecPath}'{(s.SkipCorrupt ? " (--skip-corrupt: read sequentially, cached)" : "")}.")));
            // The saved model takes (ImagePath, Identity) rows and starts with LoadImages, as a folder-trained one does, so
            // embed and evaluate score image files with either.
            var modelInput = ml.Data.LoadFromEnumerable(new List<ImageRow>());
            var loadImages = LoadImages(ml).Fit(modelInput);
            return new TrainingInput(pack.ToDataView(), modelInput, [loadImages], count => pack.Enumerate()
                .DistinctBy(r => r.Label).Take(count).Select(r => MLImage.CreateFromStream(new MemoryStream(r.Image, writable: false))).ToList(), pack);
        }
        catch
        {
            pack.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An identity folder: the images that decode (<see cref="ImageFiles.KeepDecodable"/>) as a view read by position, labelled
    /// in order of first appearance as MapValueToKey labels them; the saved model takes (ImagePath, Identity) rows and starts
    /// with LoadImages and MapValueToKey, so it scores image files as before.
    /// </summary>
    private static TrainingInput FolderInput(string dataFolder, TrainSettings s, MLContext ml, IAnsiConsole console)
    {
        var rows = ImageFiles.KeepDecodable(ImageFiles.ReadIdentityFolder(dataFolder, out var skipped), r => r.Path, s.SkipCorrupt, console, new ImagePolicy(s.InputSize, s.Resize));
        var identities = rows.Select(r => r.Identity).Distinct(StringComparer.Ordinal).ToList();
        if (identities.Count < 2)
            throw new CliException($"Data folder '{dataFolder}' has decodable images of only {identities.Count} identity; training needs at least 2.");
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} images of {identities.Count} identities in '{dataFolder}'.")));
        if (skipped.Count > 0)
            console.MarkupLine($"[yellow]Skipped {skipped.Count} sub-folder(s) without images:[/] {Markup.Escape(string.Join(", ", skipped.Take(10)))}{(skipped.Count > 10 ? ", ..." : "")}");

        var labels = identities.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
        var entries = rows.Select(r => new ImageFolderEntry(r.Path, r.Identity, labels[r.Identity])).ToList();
        var modelInput = ml.Data.LoadFromEnumerable(rows.Select(r => new ImageRow { ImagePath = r.Path, Identity = r.Identity }));
        var prefix = LoadImages(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", nameof(ImageRow.Identity)))
            .Fit(modelInput);
        return new TrainingInput(ImageFolderReader.ToDataView(entries, identities), modelInput, prefix.ToArray(),
            count => entries.DistinctBy(e => e.LabelIndex).Take(count).Select(e => MLImage.CreateFromFile(e.Path)).ToList(), owned: null);
    }

    private static string Format(TimeSpan t) => t.ToString(t.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss\.f", CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.LH2Face;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary><c>lh2face embed</c>: scores images with a saved model and writes their embeddings as CSV.</summary>
public static class EmbedCommand
{
    private sealed class Scored
    {
        public string ImagePath { get; set; } = "";

        public float[] Embedding { get; set; } = [];

        public float[] Quality { get; set; } = [];
    }

    /// <summary>Runs the command; returns the process exit code (<see cref="ExitCodes"/>); errors go to <paramref name="errors"/> (default: <paramref name="console"/>).</summary>
    public static int Run(EmbedSettings settings, IAnsiConsole console, CancellationToken cancellationToken, CliErrors? errors = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        errors ??= new CliErrors(console);
        // ML.NET copies the model's ONNX graph under TempFilePath and does not always delete it.
        var tempDirectory = Path.Combine(Path.GetTempPath(), "lh2face-embed-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(tempDirectory);
            return RunCore(settings, console, tempDirectory, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            errors.Line("[yellow]Embedding cancelled; no CSV written.[/]");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            return errors.Print(e);
        }
        finally
        {
            try { Directory.Delete(tempDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static int RunCore(EmbedSettings s, IAnsiConsole console, string tempDirectory, CancellationToken cancellationToken)
    {
        if (!File.Exists(s.ModelPath))
            throw new CliException($"Model file '{s.ModelPath}' does not exist.");
        var csvPath = OutputFile.CheckWritable(s.OutputPath, "CSV");
        var images = ImageFiles.KeepDecodable(ImageFiles.FindImages(s.ImagesPath), p => p, s.SkipCorrupt, console);
        if (images.Count == 0)
            throw new CliException($"No image under '{s.ImagesPath}' decodes completely; nothing to embed.");
        // Paths in the CSV: relative to the folder given, or as given for a single file.
        var root = Directory.Exists(s.ImagesPath) ? Path.GetFullPath(s.ImagesPath) : null;

        LH2FaceModelFile.Verify(s.ModelPath); // zip CRCs and the graph's SHA-256: a damaged or edited model.zip is named, not scored
        var ml = new MLContext(seed: 0) { TempFilePath = tempDirectory };
        ITransformer model;
        DataViewSchema inputSchema;
        try
        {
            model = ml.Model.Load(s.ModelPath, out inputSchema);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException($"Cannot load model '{s.ModelPath}': {e.Message}");
        }
        try
        {
            if (inputSchema.GetColumnOrNull(nameof(TrainCommand.ImageRow.ImagePath)) is null || inputSchema.GetColumnOrNull(nameof(TrainCommand.ImageRow.Identity)) is null)
                throw new CliException($"Model '{s.ModelPath}' was not written by 'lh2face train': it does not take ImagePath and Identity columns.");
            // The saved chain starts with LoadImages(ImagePath) and MapValueToKey(Identity): Identity is not
            // known at scoring time, so it is empty, which maps to the missing key (LH2Face ignores the label when scoring).
            var data = ml.Data.LoadFromEnumerable(images.Select(p => new TrainCommand.ImageRow { ImagePath = p, Identity = "" }));
            var scored = model.Transform(data);
            foreach (var name in new[] { "Embedding", "Quality" })
                if (scored.Schema.GetColumnOrNull(name) is null)
                    throw new CliException($"Model '{s.ModelPath}' has no '{name}' output column.");

            int dimension = 0;
            OutputFile.WriteAtomically(csvPath, temp =>
            {
                using var writer = new StreamWriter(temp, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                console.Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("embedding", maxValue: images.Count);
                        int i = 0;
                        foreach (var row in ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: true))
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            if (i == 0)
                            {
                                dimension = row.Embedding.Length;
                                writer.Write("path,quality");
                                for (int d = 0; d < dimension; d++)
                                    writer.Write(string.Create(CultureInfo.InvariantCulture, $",e{d}"));
                                writer.WriteLine();
                            }
                            writer.Write(Csv(root is null ? s.ImagesPath : Path.GetRelativePath(root, row.ImagePath).Replace('\\', '/')));
                            writer.Write(',');
                            writer.Write(row.Quality[0].ToString(CultureInfo.InvariantCulture));
                            foreach (var v in row.Embedding)
                            {
                                writer.Write(',');
                                writer.Write(v.ToString(CultureInfo.InvariantCulture));
                            }
                            writer.WriteLine();
                            task.Increment(1);
                            i++;
                        }
                        task.StopTask();
                    });
            });
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {images.Count} embeddings of dimension {dimension} to '{csvPath}'.")));
            return 0;
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    /// <summary>Quotes a CSV field when it holds a comma, quote or line break (RFC 4180).</summary>
    private static string Csv(string field)
        => field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}

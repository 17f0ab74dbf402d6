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
        // A model.zip is verified (zip CRCs, the graph's SHA-256) before anything is scored; its metadata gives the input size.
        using var onnxModel = ModelFiles.IsOnnx(s.ModelPath) ? OnnxModel.Open(s) : null;
        int inputSize = onnxModel?.InputSize ?? ModelFiles.ZipInputSize(s.ModelPath, s.InputSize);
        var images = ImageFiles.KeepDecodable(ImageFiles.FindImages(s.ImagesPath), p => p, s.SkipCorrupt, console, new ImagePolicy(inputSize, s.Resize));
        if (images.Count == 0)
            throw new CliException($"No image under '{s.ImagesPath}' decodes completely; nothing to embed.");
        // Paths in the CSV: relative to the folder given, or as given for a single file.
        var root = Directory.Exists(s.ImagesPath) ? Path.GetFullPath(s.ImagesPath) : null;
        string CsvPath(string image) => root is null ? s.ImagesPath : Path.GetRelativePath(root, image).Replace('\\', '/');

        int dimension = onnxModel is not null
            ? WriteCsv(csvPath, images.Count, images.Select(p => (CsvPath(p), onnxModel.Embed(ImageFiles.LoadPlanar(p, onnxModel.InputSize)))), console, cancellationToken)
            : EmbedWithMlNet(s, images, CsvPath, csvPath, console, tempDirectory, cancellationToken);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {images.Count} embeddings of dimension {dimension} to '{csvPath}'.")));
        return 0;
    }

    private static int EmbedWithMlNet(EmbedSettings s, List<string> images, Func<string, string> csvPath, string csvFile, IAnsiConsole console, string tempDirectory, CancellationToken cancellationToken)
    {
        var ml = new MLContext(seed: 0) { TempFilePath = tempDirectory };
        ITransformer model;
        DataViewSchema inputSchema;
        try
        {
            model = ml.Model.Load(s.ModelPath, out inputSchema);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw ModelFiles.CannotLoad(s.ModelPath, e, "Give a model.zip written by 'lh2face train' or an ONNX face model.");
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
            var rows = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: true)
                .Select(row => (csvPath(row.ImagePath), (row.Quality[0], row.Embedding)));
            return WriteCsv(csvFile, images.Count, rows, console, cancellationToken);
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    /// <summary>Writes path,quality,e0.. rows to a temp file moved over <paramref name="csvPath"/> when complete; returns the dimension.</summary>
    private static int WriteCsv(string csvPath, int count, IEnumerable<(string Path, (float Quality, float[] Embedding) Row)> rows, IAnsiConsole console, CancellationToken cancellationToken)
    {
        int dimension = 0;
        OutputFile.WriteAtomically(csvPath, temp =>
        {
            using var writer = new StreamWriter(temp, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("embedding", maxValue: count);
                    int i = 0;
                    foreach (var (path, (quality, embedding)) in rows)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (i == 0)
                        {
                            dimension = embedding.Length;
                            writer.Write("path,quality");
                            for (int d = 0; d < dimension; d++)
                                writer.Write(string.Create(CultureInfo.InvariantCulture, $",e{d}"));
                            writer.WriteLine();
                        }
                        writer.Write(Csv(path));
                        writer.Write(',');
                        writer.Write(quality.ToString(CultureInfo.InvariantCulture));
                        foreach (var v in embedding)
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
        return dimension;
    }

    /// <summary>
    /// An ONNX face model scored one image at a time. A graph exported by this library (LH2Face metadata) takes raw 0..255
    /// RGB at the size its metadata names and has "embedding" and "quality" outputs; any other model takes its input
    /// normalised as (x - mean) / std, and its first output is L2-normalised into the embedding with its norm as the quality.
    /// </summary>
    private sealed class OnnxModel : IDisposable
    {
        private readonly Microsoft.ML.OnnxRuntime.InferenceSession session;
        private readonly string input;
        private readonly string embeddingOutput;
        private readonly string? qualityOutput;
        private readonly float mean, std;
        private readonly bool bgr;

        private OnnxModel(Microsoft.ML.OnnxRuntime.InferenceSession session, EmbedSettings s)
        {
            this.session = session;
            input = session.InputMetadata.Keys.First();
            int? ourSize = ModelFiles.LH2FaceOnnxInputSize(session.ModelMetadata.CustomMetadataMap);
            bool ours = ourSize is not null && session.OutputMetadata.ContainsKey("embedding") && session.OutputMetadata.ContainsKey("quality");
            InputSize = ours ? ourSize!.Value : s.InputSize;
            (mean, std, bgr) = ours ? (0f, 1f, false) : (s.Mean, s.Std, s.Bgr);
            embeddingOutput = ours ? "embedding" : session.OutputMetadata.Keys.First();
            qualityOutput = ours ? "quality" : null;
            var dims = session.InputMetadata[input].Dimensions;
            if (session.InputMetadata[input].ElementType != typeof(float) || dims.Length != 4 || dims[0] > 1 || !Fits(dims[1], 3) || !Fits(dims[2], InputSize) || !Fits(dims[3], InputSize))
                throw new CliException($"ONNX model '{s.ModelPath}' input '{input}' is {session.InputMetadata[input].ElementType.Name}[{string.Join(", ", dims)}]; embed feeds float[1, 3, {InputSize}, {InputSize}]: set --input-size to the model's crop size, or use a model with an NCHW float input.");

            static bool Fits(int dim, int wanted) => dim <= 0 || dim == wanted;
        }

        public int InputSize { get; }

        public static OnnxModel Open(EmbedSettings s)
        {
            Microsoft.ML.OnnxRuntime.InferenceSession session;
            try
            {
                session = new Microsoft.ML.OnnxRuntime.InferenceSession(s.ModelPath);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw ModelFiles.CannotLoad(s.ModelPath, e, "Give an ONNX face model with a [N,3,S,S] float input, or a model.zip written by 'lh2face train'.");
            }
            try
            {
                return new OnnxModel(session, s);
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        public (float Quality, float[] Embedding) Embed(float[] planar)
        {
            int plane = InputSize * InputSize;
            var x = new float[planar.Length];
            for (int c = 0; c < 3; c++)
            {
                int from = (bgr ? 2 - c : c) * plane;
                for (int q = 0; q < plane; q++)
                    x[c * plane + q] = (planar[from + q] - mean) / std;
            }
            var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, new[] { 1, 3, InputSize, InputSize });
            var names = qualityOutput is null ? new[] { embeddingOutput } : new[] { embeddingOutput, qualityOutput };
            using var results = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(input, tensor) }, names);
            var embedding = results.First(r => r.Name == embeddingOutput).AsEnumerable<float>().ToArray();
            if (qualityOutput is not null)
                return (results.First(r => r.Name == qualityOutput).AsEnumerable<float>().First(), embedding);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(embedding);
            if (norm > 0)
                System.Numerics.Tensors.TensorPrimitives.Divide(embedding, norm, embedding);
            return (norm, embedding);
        }

        public void Dispose() => session.Dispose();
    }

    /// <summary>Quotes a CSV field when it holds a comma, quote or line break (RFC 4180).</summary>
    private static string Csv(string field)
        => field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}

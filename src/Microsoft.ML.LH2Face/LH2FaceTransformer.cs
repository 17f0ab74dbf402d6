using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Training;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// A trained LH2Face model in an ML.NET pipeline: adds the embedding (L2-normalised Single vector) and
/// quality (feature norm kappa) columns. Scoring runs through an inner ML.NET chain (image resizing and
/// pixel extraction when the input is an MLImage, then ONNX Runtime on the exported graph), and saving
/// delegates to that chain, so <c>mlContext.Model.Save</c> / <c>Load</c> work: the loaded model is
/// ML.NET's own chain with identical outputs, and everything it needs is in the ONNX graph and its
/// metadata. Dispose it to delete its temporary ONNX files.
/// A model trained with the renderer (Options.UseRenderer) also adds the Reconstruction (I_hat) and
/// CanonicalFace (J) columns: planar RGB Single vectors of 3*R*R values in 0..255 (R =
/// <see cref="RendererResolution"/>). For images, append
/// <c>ConvertToImage(R, R, "ReconstructionImage", "Reconstruction", interleavedColors: false)</c>.
/// </summary>
public sealed class LH2FaceTransformer : ITransformer, IDisposable
{
    private const string ResizedColumn = "__LH2Face.Resized";

    private readonly LH2FaceModelDescription description;
    private readonly byte[] standaloneOnnx;
    private readonly string tempDirectory;
    private readonly MLContext context;
    private readonly ITransformer chain;
    private readonly string imageColumn;
    private readonly RendererColumns? rendererColumns;
    private Microsoft.ML.OnnxRuntime.InferenceSession? renderSession;
    private bool disposed;

    internal LH2FaceTransformer(LH2FaceModelDescription description, byte[] scoringOnnx, byte[] standaloneOnnx, IDataView schemaSource)
    {
        var settings = description.Settings;
        rendererColumns = description.RendererColumns;
        this.description = description;
        this.standaloneOnnx = standaloneOnnx;
        imageColumn = settings.ImageColumn;
        EmbeddingColumnName = settings.EmbeddingColumn;
        QualityColumnName = settings.QualityColumn;
        // ML.NET writes a copy of every stream-loaded ONNX model under TempFilePath and does not always
        // delete it: this transformer owns a private directory and removes it on Dispose.
        tempDirectory = Path.Combine(Path.GetTempPath(), "lh2face-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tempDirectory);
        context = new MLContext { TempFilePath = tempDirectory };
        try
        {
            chain = BuildChain(scoringOnnx, schemaSource, settings.InputKind);
        }
        catch
        {
            Directory.Delete(tempDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Rebuilds the transformer of a model.zip saved by this library (<c>mlContext.Model.Save</c> of a pipeline with an
    /// LH2Face transformer, or <c>lh2face train</c>): the same scoring graph, input size, column names, training summary,
    /// <see cref="ExportOnnx"/> and, for a model trained with the renderer, <see cref="Render"/>. The file is verified
    /// first (<see cref="LH2FaceModelFile.Verify"/>). The network's weights are read back from the saved graph into a
    /// TorchSharp network, whose re-export must reproduce the saved graph's SHA-256 exactly; so the standalone ONNX
    /// this transformer exports is the one the trained model exported. <c>mlContext.Model.Load</c> of the same file
    /// keeps working and gives ML.NET's plain chain with identical outputs. Dispose the result.
    /// </summary>
    /// <param name="mlContext">The context whose log receives the loader's messages.</param>
    /// <param name="path">The model.zip.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is damaged or edited, holds no LH2Face graph, or was saved by an
    /// earlier version of this library (without the <see cref="LH2FaceModelMetadata.Transformer"/> metadata).</exception>
    public static LH2FaceTransformer Load(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var graph = LH2FaceModelFile.ReadScoringGraph(path);
        var description = LH2FaceModelDescription.FromMetadata(OnnxMetadata.Of(graph.Model), path);
        var standalone = OnnxModelRebuild.StandaloneFromScoring(graph.Model, description, path, MlNetLog.From(mlContext.Transforms));
        return new LH2FaceTransformer(description, graph.Bytes, standalone, EmptyDataView.For(description));
    }

    /// <summary>The directory holding this transformer's ONNX file; deleted on Dispose.</summary>
    internal string TemporaryDirectory => tempDirectory;

    /// <summary>Dimension of the embedding.</summary>
    public int EmbeddingSize => description.EmbeddingSize;

    /// <summary>Side of the square network input in pixels.</summary>
    public int InputSize => description.InputSize;

    /// <summary>Name of the embedding output column.</summary>
    public string EmbeddingColumnName { get; }

    /// <summary>Name of the quality output column.</summary>
    public string QualityColumnName { get; }

    /// <summary>Side R of the Reconstruction and CanonicalFace outputs, or null when the model has no renderer.</summary>
    public int? RendererResolution => rendererColumns?.Resolution;

    /// <summary>Name of the reconstruction (I_hat) output column, or null when the model has no renderer.</summary>
    public string? ReconstructionColumnName => rendererColumns?.Reconstruction;

    /// <summary>Name of the canonical-face (J) output column, or null when the model has no renderer.</summary>
    public string? CanonicalFaceColumnName => rendererColumns?.CanonicalFace;

    /// <summary>What happened during training.</summary>
    public LH2FaceTrainingSummary TrainingSummary => description.Summary;

    /// <summary>The metadata_props written into the ONNX graph (format version, sizes, normalisation, head, training summary).</summary>
    public IReadOnlyDictionary<string, string> ModelMetadata => description.ToMetadata();

    /// <inheritdoc />
    public bool IsRowToRowMapper => chain.IsRowToRowMapper;

    /// <summary>
    /// Writes the model as a standalone ONNX file for any ONNX runtime (opset 17). Input "pixels":
    /// float32 [N, 3, S, S], planar RGB in 0..255 (S = <see cref="InputSize"/>, 112 by default, as
    /// insightface crops); the graph normalises (x - 127.5) / 127.5 itself. Outputs "embedding": float32
    /// [N, d], L2-normalised; "quality": float32 [N], the feature norm kappa. metadata_props carry the
    /// format version, sizes, normalisation, head and a training summary. The file is written to a
    /// temporary name and moved into place. With the renderer the graph also outputs "reconstruction"
    /// and "canonical_face" [N, 3, R, R] (0..255) and "canonical_depth" [N, 1, R, R] (about 0.9..1.1).
    /// </summary>
    public void ExportOnnx(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot export the ONNX model to '{path}': directory '{directory}' does not exist.");
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, standaloneOnnx);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>
    /// Runs the renderer on images given as planar RGB 0..255 at the input size (3 * S * S values each,
    /// S = <see cref="InputSize"/>), through the standalone ONNX graph: the reconstruction, the canonical
    /// face and the canonical depth of each image (the depth is not an ML.NET column).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was trained without the renderer.</exception>
    public IReadOnlyList<LH2FaceRendering> Render(IReadOnlyList<float[]> pixels)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(pixels);
        int r = RendererResolution ?? throw new InvalidOperationException(
            "This model was trained without the renderer, so it cannot render faces: train with LH2FaceTrainer.Options.UseRenderer = true.");
        int values = 3 * InputSize * InputSize;
        for (int i = 0; i < pixels.Count; i++)
        {
            if (pixels[i] is null || pixels[i].Length != values)
                throw new ArgumentException($"pixels[{i}] has {pixels[i]?.Length ?? 0} values; give planar RGB 0..255 at the input size ({values} = 3 x {InputSize} x {InputSize}).", nameof(pixels));
        }
        if (pixels.Count == 0)
            return Array.Empty<LH2FaceRendering>();
        var names = OnnxModelExporter.StandaloneNames;
        renderSession ??= new Microsoft.ML.OnnxRuntime.InferenceSession(standaloneOnnx);
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(pixels.SelectMany(p => p).ToArray(), new[] { pixels.Count, 3, InputSize, InputSize });
        using var results = renderSession.Run(
            new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(names.Pixels, input) },
            new[] { names.Reconstruction, names.CanonicalFace, names.CanonicalDepth! });
        float[] Output(string name) => results.First(v => v.Name == name).AsTensor<float>().ToArray();
        float[] reconstruction = Output(names.Reconstruction), canonical = Output(names.CanonicalFace), depth = Output(names.CanonicalDepth!);
        int image = 3 * r * r, plane = r * r;
        return Enumerable.Range(0, pixels.Count).Select(i => new LH2FaceRendering(
            reconstruction.AsSpan(i * image, image).ToArray(), canonical.AsSpan(i * image, image).ToArray(), depth.AsSpan(i * plane, plane).ToArray())).ToArray();
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        InputValidation.CheckImage(inputSchema, imageColumn, InputSize);
        return chain.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        InputValidation.CheckImage(inputSchema, imageColumn, InputSize);
        return chain.GetRowToRowMapper(inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(input);
        InputValidation.CheckImage(input.Schema, imageColumn, InputSize);
        return chain.Transform(input);
    }

    /// <summary>Saves the inner ML.NET chain: a loaded model is that chain, with identical outputs.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        chain.Save(ctx);
    }

    /// <summary>Releases the ONNX Runtime session and deletes the temporary ONNX files.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        renderSession?.Dispose();
        (chain as IDisposable)?.Dispose();
        try
        {
            if (Directory.Exists(tempDirectory))
                Directory.Delete(tempDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still mapped by a session that the GC has not released yet; nothing else to do.
        }
    }

    private ITransformer BuildChain(byte[] scoringOnnx, IDataView schemaSource, ImageInputKind kind)
    {
        var names = OnnxModelExporter.ScoringNames;
        var t = context.Transforms;
        var prep = kind == ImageInputKind.Image
            ? Preprocessing.ImageToPixels(t, imageColumn, ResizedColumn, names.Pixels, InputSize)
            : (IEstimator<ITransformer>)t.CopyColumns(names.Pixels, imageColumn);
        var onnxOutputs = new List<string> { names.Embedding, names.Quality };
        if (rendererColumns is not null)
            onnxOutputs.AddRange([names.Reconstruction, names.CanonicalFace]);
        var dropped = new List<string>(onnxOutputs) { names.Pixels };
        if (kind == ImageInputKind.Image)
            dropped.Add(ResizedColumn);
        // The path overload makes no copy of its own (the stream overload leaks one), and Save re-reads
        // the file: it lives in this transformer's directory until Dispose.
        var modelPath = Path.Combine(tempDirectory, "scoring.onnx");
        File.WriteAllBytes(modelPath, scoringOnnx);
        var estimator = prep
            .Append(t.ApplyOnnxModel(onnxOutputs.ToArray(), new[] { names.Pixels }, modelPath))
            .Append(t.CopyColumns(EmbeddingColumnName, names.Embedding))
            .Append(t.CopyColumns(QualityColumnName, names.Quality));
        if (rendererColumns is not null)
        {
            estimator = estimator
                .Append(t.CopyColumns(rendererColumns.Reconstruction, names.Reconstruction))
                .Append(t.CopyColumns(rendererColumns.CanonicalFace, names.CanonicalFace));
        }
        return estimator.Append(t.DropColumns(dropped.ToArray())).Fit(schemaSource);
    }
}

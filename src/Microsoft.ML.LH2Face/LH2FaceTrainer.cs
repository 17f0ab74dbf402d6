using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Settings;
using Microsoft.ML.LH2Face.Training;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// Trains a face-recognition embedding network with the LH2Face loss (or ArcFace / CosFace) on
/// TorchSharp and returns a <see cref="LH2FaceTransformer"/> that scores through ONNX Runtime inside
/// ML.NET. Input: a key-typed identity label and an image column (MLImage of any size, or planar RGB
/// pixels). Output columns: the L2-normalised embedding and the quality (feature norm kappa).
/// Create it with <c>mlContext.Transforms.LH2Face(...)</c>.
/// </summary>
public sealed partial class LH2FaceTrainer : IEstimator<LH2FaceTransformer>
{
    private const string PreparedPixelsColumn = "__LH2Face.TrainingPixels";
    private const string ResizedImageColumn = "__LH2Face.TrainingResized";

    private readonly Options options;

    /// <summary>The options mapped into per-component settings and checked, once, when the trainer is created.</summary>
    private readonly TrainerSettings settings;
    private readonly Action<string> log;

    internal LH2FaceTrainer(Options options, TransformsCatalog? catalog)
    {
        settings = InputValidation.CheckOptions(options);
        this.options = options;
        log = MlNetLog.From(catalog);
    }

    /// <summary>
    /// The options this trainer was created with. They were read when the trainer was created (as ML.NET trainers read
    /// theirs): changing them afterwards does not change this trainer; create a new one.
    /// </summary>
    public Options TrainerOptions => options;

    /// <summary>Checks the input columns and adds the embedding and quality columns; works before Fit.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        InputValidation.Check(inputSchema, settings);
        return RendererOutputColumns.AddTo(
            OutputColumns.AddTo(inputSchema, settings.Columns.Embedding, settings.Columns.Quality, settings.Backbone.EmbeddingSize), settings);
    }

    /// <summary>Trains on <paramref name="input"/> and returns the fitted transformer.</summary>
    public LH2FaceTransformer Fit(IDataView input)
    {
        var (transformer, network) = FitCore(input, keepNetwork: false);
        network?.Dispose();
        return transformer;
    }

    /// <summary>Fit that can also hand back the trained TorchSharp network (eval mode), for checks against ONNX.</summary>
    internal (LH2FaceTransformer Transformer, FaceNetwork? Network) FitCore(IDataView input, bool keepNetwork)
    {
        ArgumentNullException.ThrowIfNull(input);
        var kind = InputValidation.Check(input.Schema, settings, "training data");
        var validationSet = settings.Run.ValidationSet;
        var validationKind = validationSet is null ? (ImageInputKind?)null : InputValidation.Check(validationSet.Schema, settings, "validation set");

        var train = LoadTrainingImages(input, kind);
        var validation = validationKind is null ? null : LoadImages(validationSet!, validationKind.Value, "validation set");
        var result = new TrainingSession(settings, train, validation, log).Run();
        FaceNetwork? network = result.Network;
        // The steps' freed activations go back to the system before the export allocates memory of its own.
        if (FreedNativeMemory.Release() is { } released)
            log(released);
        var description = new LH2FaceModelDescription(settings, train.ClassCount, result.Summary, kind);
        byte[] scoring, standalone;
        try
        {
            scoring = OnnxModelExporter.Export(network, description, OnnxModelExporter.ScoringNames);
            standalone = OnnxModelExporter.Export(network, description, OnnxModelExporter.StandaloneNames);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        log($"Training finished: {result.Summary.Steps} steps in {result.Summary.Duration}.");
        if (!keepNetwork)
        {
            network.Dispose();
            network = null;
        }
        var transformer = new LH2FaceTransformer(description, scoring, standalone, input);
        return (transformer, network);
    }

    /// <summary>
    /// The training images, cached or streamed as <see cref="Options.DataLoading"/> says: Auto caches until the pixels pass
    /// MaxCacheBytes, then streams a view that can be read by position (and fails, naming MaxCacheBytes, one that cannot).
    /// </summary>
    private ITrainingImages LoadTrainingImages(IDataView data, ImageInputKind kind)
    {
        const string dataName = "training data";
        var run = settings.Run;
        var randomAccess = data as IRandomAccessDataView;
        if (run.DataLoading == LH2FaceDataLoading.Stream && randomAccess is null)
        {
            throw new InvalidOperationException(
                $"Options.DataLoading = Stream needs training data that can be read by position (an IRandomAccessDataView), but Fit got a {data.GetType().Name}: " +
                "pass ImageFolderReader.ToDataView() or InsightFaceRecordReader.ToDataView() (opened without skipCorrupt) straight to the trainer, with no transform in " +
                "between (its Image and Label columns are what the trainer reads), or use DataLoading = Auto or Cache.");
        }
        long estimate = randomAccess is null ? 0 : (long)randomAccess.RowCount * 3 * settings.Backbone.InputSize * settings.Backbone.InputSize;
        string? reason = run.DataLoading == LH2FaceDataLoading.Stream ? "DataLoading = Stream"
            : run.DataLoading == LH2FaceDataLoading.Auto && randomAccess is not null && estimate > run.MaxCacheBytes
                ? $"{randomAccess.RowCount} images need at least {FaceImageSet.FormatBytes(estimate)} of pixels, more than MaxCacheBytes = {FaceImageSet.FormatBytes(run.MaxCacheBytes)}"
                : null;
        var (pixelData, pixelColumn, preprocessing) = PreparePixels(data, kind);
        if (reason is null)
        {
            bool streamable = run.DataLoading == LH2FaceDataLoading.Auto && randomAccess is not null;
            var cached = FaceImageSet.TryLoad(pixelData, settings.Columns.Label, pixelColumn, settings.Backbone.InputSize, run.MaxCacheBytes, dataName, run.CancellationToken, streamable);
            if (cached is not null)
                return cached;
            reason = $"its pixels passed MaxCacheBytes = {FaceImageSet.FormatBytes(run.MaxCacheBytes)} while caching";
        }
        // The preprocessing fitted on the view itself: streamed rows are SelectRows views of it with its schema.
        return StreamedFaceImages.Open(randomAccess!, preprocessing, settings.Columns.Label, pixelColumn, settings.Backbone.InputSize, run.DecodingThreads, dataName, reason,
            run.CancellationToken);
    }

    /// <summary>Reads the images of <paramref name="data"/> into memory as planar pixels at the model input size.</summary>
    private FaceImageSet LoadImages(IDataView data, ImageInputKind kind, string dataName)
    {
        var (pixelData, pixelColumn, _) = PreparePixels(data, kind);
        return FaceImageSet.Load(pixelData, settings.Columns.Label, pixelColumn, settings.Backbone.InputSize, settings.Run.MaxCacheBytes, dataName, settings.Run.CancellationToken);
    }

    /// <summary>
    /// The data with a planar pixel column at the input size: image input goes through <see cref="Preprocessing.ImageToPixels"/>
    /// (also returned, to apply to streamed rows); pixel input is used as it is.
    /// </summary>
    private (IDataView Data, string PixelColumn, ITransformer? Preprocessing) PreparePixels(IDataView data, ImageInputKind kind)
    {
        if (kind != ImageInputKind.Image)
            return (data, settings.Columns.Image, null);
        var context = new MLContext(settings.Run.Seed);
        var prep = Preprocessing.ImageToPixels(context.Transforms, settings.Columns.Image, ResizedImageColumn, PreparedPixelsColumn, settings.Backbone.InputSize).Fit(data);
        return (prep.Transform(data), PreparedPixelsColumn, prep);
    }
}

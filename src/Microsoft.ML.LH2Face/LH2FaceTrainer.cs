using Microsoft.ML.Data;
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

        var train = LoadImages(input, kind, "training data");
        var validation = validationKind is null ? null : LoadImages(validationSet!, validationKind.Value, "validation set");
        var result = new TrainingSession(settings, train, validation, log).Run();
        FaceNetwork? network = result.Network;
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

    /// <summary>Reads the images of <paramref name="data"/> into memory as planar pixels at the model input size.</summary>
    private FaceImageSet LoadImages(IDataView data, ImageInputKind kind, string dataName)
    {
        var pixelColumn = settings.Columns.Image;
        int side = settings.Backbone.InputSize;
        if (kind == ImageInputKind.Image)
        {
            var context = new MLContext(settings.Run.Seed);
            var prep = Preprocessing.ImageToPixels(context.Transforms, settings.Columns.Image, ResizedImageColumn, PreparedPixelsColumn, side);
            data = prep.Fit(data).Transform(data);
            pixelColumn = PreparedPixelsColumn;
        }
        return FaceImageSet.Load(data, settings.Columns.Label, pixelColumn, side, settings.Run.MaxCacheBytes, dataName, settings.Run.CancellationToken);
    }
}

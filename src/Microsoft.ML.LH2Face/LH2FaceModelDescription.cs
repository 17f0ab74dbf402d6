using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// What a trained model is, as written into the ONNX metadata_props (<see cref="LH2FaceModelMetadata"/>), and read back
/// from them by <see cref="LH2FaceTransformer.Load"/>.
/// </summary>
internal sealed class LH2FaceModelDescription
{
    /// <summary>Version of the ONNX interface (input, outputs, metadata keys) this library writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>Version of the JSON under <see cref="LH2FaceModelMetadata.Transformer"/>.</summary>
    public const int TransformerFormatVersion = 1;

    public const string Normalisation = "input: planar RGB float32 0..255 [N,3,S,S]; the graph computes (x - 127.5) / 127.5";

    public LH2FaceModelDescription(TrainerSettings options, int classCount, LH2FaceTrainingSummary summary, ImageInputKind inputKind = ImageInputKind.Pixels)
    {
        EmbeddingSize = options.Backbone.EmbeddingSize;
        InputSize = options.Backbone.InputSize;
        Backbone = options.Backbone.Kind;
        Head = Losses.LossConfiguration.DescribeHead(options.Loss);
        Loss = Losses.LossConfiguration.ToJson(options.Loss, classCount);
        ClassCount = classCount;
        Summary = summary;
        Settings = new TransformerSettings
        {
            Version = TransformerFormatVersion,
            InputKind = inputKind,
            ImageColumn = options.Columns.Image,
            EmbeddingColumn = options.Columns.Embedding,
            QualityColumn = options.Columns.Quality,
            Backbone = options.Backbone.Kind,
            EmbeddingNorm = options.Backbone.EmbeddingNorm,
            ClassCount = classCount,
            Renderer = options.Renderer is { } r
                ? new RendererSettings(r.Resolution, r.WarpIterations, r.FieldOfView, r.DepthPrior, options.Columns.Reconstruction, options.Columns.CanonicalFace)
                : null,
            Summary = SummaryRecord.From(summary),
        };
    }

    private LH2FaceModelDescription(IReadOnlyDictionary<string, string> metadata, TransformerSettings settings, string source)
    {
        EmbeddingSize = ParseInt(metadata, LH2FaceModelMetadata.EmbeddingSize, source);
        InputSize = ParseInt(metadata, LH2FaceModelMetadata.InputSize, source);
        Backbone = settings.Backbone;
        Head = Value(metadata, LH2FaceModelMetadata.Head, source);
        Loss = Value(metadata, LH2FaceModelMetadata.Loss, source);
        ClassCount = settings.ClassCount;
        Summary = settings.Summary.ToSummary();
        Settings = settings;
    }

    public int EmbeddingSize { get; }

    public int InputSize { get; }

    public LH2FaceBackbone Backbone { get; }

    public string Head { get; }

    /// <summary>The effective loss configuration (JSON).</summary>
    public string Loss { get; }

    public int ClassCount { get; }

    public LH2FaceTrainingSummary Summary { get; }

    /// <summary>Columns, input kind and network settings: what rebuilds the transformer.</summary>
    public TransformerSettings Settings { get; }

    /// <summary>The renderer's output columns, or null without the renderer.</summary>
    public RendererColumns? RendererColumns => Settings.Renderer is { } r ? new RendererColumns(r.ReconstructionColumn, r.CanonicalFaceColumn, r.Resolution) : null;

    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var summary = new Dictionary<string, object?>
        {
            ["backbone"] = Backbone.ToString(),
            ["identities"] = ClassCount,
            ["steps"] = Summary.Steps,
            ["planned_steps"] = Summary.PlannedSteps,
            ["last_epoch_loss"] = Summary.EpochLosses.Count > 0 ? Summary.EpochLosses[^1] : null,
            ["best_validation_accuracy"] = Summary.BestValidationAccuracy,
            ["duration_s"] = Math.Round(Summary.Duration.TotalSeconds, 1),
        };
        return new Dictionary<string, string>
        {
            [LH2FaceModelMetadata.FormatVersion] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            [LH2FaceModelMetadata.EmbeddingSize] = EmbeddingSize.ToString(CultureInfo.InvariantCulture),
            [LH2FaceModelMetadata.InputSize] = $"{InputSize}x{InputSize}",
            [LH2FaceModelMetadata.Normalisation] = Normalisation,
            [LH2FaceModelMetadata.Head] = Head,
            [LH2FaceModelMetadata.Loss] = Loss,
            [LH2FaceModelMetadata.TrainingSummary] = JsonSerializer.Serialize(summary),
            [LH2FaceModelMetadata.Transformer] = JsonSerializer.Serialize(Settings, Json),
        };
    }

    /// <summary>
    /// The description written into <paramref name="metadata"/> (an LH2Face graph's metadata_props); <paramref name="source"/>
    /// names the file in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">The graph was written before the transformer settings were (or they are damaged).</exception>
    public static LH2FaceModelDescription FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue(LH2FaceModelMetadata.Transformer, out var json))
            throw new InvalidDataException(
                $"Model '{source}' has no {LH2FaceModelMetadata.Transformer} metadata: it was saved by an earlier version of this library. Load it with mlContext.Model.Load (a plain ML.NET chain), or train it again to get a model that LH2FaceTransformer.Load can rebuild.");
        TransformerSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<TransformerSettings>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Model '{source}': the {LH2FaceModelMetadata.Transformer} metadata is not valid ({e.Message}).", e);
        }
        if (settings is null || settings.Version != TransformerFormatVersion)
            throw new InvalidDataException($"Model '{source}': the {LH2FaceModelMetadata.Transformer} metadata has version {settings?.Version}; this library reads version {TransformerFormatVersion}.");
        return new LH2FaceModelDescription(metadata, settings, source);
    }

    /// <summary>Settings that build a network of this model's shape (backbone, sizes, embedding norm, renderer; the default head) for loading its weights.</summary>
    public NetworkSettings Network()
    {
        var options = new LH2FaceTrainer.Options
        {
            Backbone = Backbone,
            InputSize = InputSize,
            EmbeddingSize = EmbeddingSize,
            EmbeddingNorm = Settings.EmbeddingNorm,
        };
        if (Settings.Renderer is { } r)
        {
            options.UseRenderer = true;
            options.RendererResolution = r.Resolution;
            options.RendererWarpIterations = r.WarpIterations;
            options.RendererFieldOfView = r.FieldOfView;
            options.RendererDepthPrior = r.DepthPrior;
        }
        return TrainerSettings.From(options).Network;
    }

    private static string Value(IReadOnlyDictionary<string, string> metadata, string key, string source)
        => metadata.TryGetValue(key, out var value) ? value : throw new InvalidDataException($"Model '{source}' has no {key} metadata.");

    private static int ParseInt(IReadOnlyDictionary<string, string> metadata, string key, string source)
    {
        var text = Value(metadata, key, source).Split('x')[0];
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new InvalidDataException($"Model '{source}': the {key} metadata '{text}' is not a positive integer.");
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The JSON under <see cref="LH2FaceModelMetadata.Transformer"/>.</summary>
    internal sealed record TransformerSettings
    {
        public int Version { get; init; }
        public ImageInputKind InputKind { get; init; }
        public string ImageColumn { get; init; } = "";
        public string EmbeddingColumn { get; init; } = "";
        public string QualityColumn { get; init; } = "";
        public LH2FaceBackbone Backbone { get; init; }
        public LH2FaceEmbeddingNorm EmbeddingNorm { get; init; }
        public int ClassCount { get; init; }
        public RendererSettings? Renderer { get; init; }
        public SummaryRecord Summary { get; init; } = new();
    }

    internal sealed record RendererSettings(int Resolution, int WarpIterations, float FieldOfView, float DepthPrior, string ReconstructionColumn, string CanonicalFaceColumn);

    /// <summary>The whole <see cref="LH2FaceTrainingSummary"/>, the duration in ticks so that it reads back exactly.</summary>
    internal sealed record SummaryRecord
    {
        public long Steps { get; init; }
        public long PlannedSteps { get; init; }
        public float[] EpochLosses { get; init; } = [];
        public double[] ValidationAccuracies { get; init; } = [];
        public double? BestValidationAccuracy { get; init; }
        public int? BestEpoch { get; init; }
        public bool StoppedEarly { get; init; }
        public long DurationTicks { get; init; }

        public static SummaryRecord From(LH2FaceTrainingSummary s) => new()
        {
            Steps = s.Steps, PlannedSteps = s.PlannedSteps, EpochLosses = s.EpochLosses.ToArray(), ValidationAccuracies = s.ValidationAccuracies.ToArray(),
            BestValidationAccuracy = s.BestValidationAccuracy, BestEpoch = s.BestEpoch, StoppedEarly = s.StoppedEarly, DurationTicks = s.Duration.Ticks,
        };

        public LH2FaceTrainingSummary ToSummary()
            => new(Steps, PlannedSteps, EpochLosses, ValidationAccuracies, BestValidationAccuracy, BestEpoch, StoppedEarly, TimeSpan.FromTicks(DurationTicks));
    }
}

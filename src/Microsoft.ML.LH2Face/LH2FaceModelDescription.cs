using System.Globalization;
using System.Text.Json;
using Microsoft.ML.LH2Face.Onnx;

namespace Microsoft.ML.LH2Face;

/// <summary>What a trained model is, as written into the ONNX metadata_props.</summary>
internal sealed class LH2FaceModelDescription
{
    /// <summary>Version of the ONNX interface (input, outputs, metadata keys) this library writes.</summary>
    public const int FormatVersion = 1;

    public const string Normalisation = "input: planar RGB float32 0..255 [N,3,S,S]; the graph computes (x - 127.5) / 127.5";

    public LH2FaceModelDescription(LH2FaceTrainer.Options options, int classCount, LH2FaceTrainingSummary summary)
    {
        EmbeddingSize = options.EmbeddingSize;
        InputSize = options.InputSize;
        Backbone = options.Backbone;
        Head = Losses.LossConfiguration.DescribeHead(options);
        Loss = Losses.LossConfiguration.ToJson(options, classCount);
        ClassCount = classCount;
        Summary = summary;
    }

    public int EmbeddingSize { get; }

    public int InputSize { get; }

    public LH2FaceBackbone Backbone { get; }

    public string Head { get; }

    /// <summary>The effective loss configuration (JSON).</summary>
    public string Loss { get; }

    public int ClassCount { get; }

    public LH2FaceTrainingSummary Summary { get; }

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
            [OnnxMetadata.FormatVersion] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            [OnnxMetadata.EmbeddingSize] = EmbeddingSize.ToString(CultureInfo.InvariantCulture),
            [OnnxMetadata.InputSize] = $"{InputSize}x{InputSize}",
            [OnnxMetadata.Normalisation] = Normalisation,
            [OnnxMetadata.Head] = Head,
            [OnnxMetadata.Loss] = Loss,
            [OnnxMetadata.TrainingSummary] = JsonSerializer.Serialize(summary),
        };
    }

}

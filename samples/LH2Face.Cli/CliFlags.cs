using System.Text.RegularExpressions;

namespace LH2Face.Cli;

/// <summary>
/// Speaks the user's language in errors: the library names its options (<c>LH2FaceTrainer.Options.Epochs</c>), the
/// user typed flags (<c>--epochs</c>). Options set from a flag are named by the flag; the others keep their library
/// name with a note that the command line sets them through the preset.
/// </summary>
internal static partial class CliFlags
{
    /// <summary>Library option -> the <c>lh2face train</c> flag that sets it.</summary>
    private static readonly Dictionary<string, string> TrainFlags = new(StringComparer.Ordinal)
    {
        ["Backbone"] = "--backbone",
        ["InputSize"] = "--input-size",
        ["EmbeddingSize"] = "--embedding-size",
        ["Epochs"] = "--epochs",
        ["BatchSize"] = "--batch-size",
        ["LearningRate"] = "--lr",
        ["Device"] = "--device",
        ["Precision"] = "--precision",
        ["RecomputeActivations"] = "--recompute-activations",
        ["Seed"] = "--seed",
        ["Head"] = "--head",
        ["CheckpointDirectory"] = "--checkpoint-dir",
        ["CheckpointEveryNSteps"] = "--checkpoint-every",
        ["ResumeFrom"] = "--resume",
        ["UseRenderer"] = "--renderer",
        ["RendererResolution"] = "--renderer-resolution",
        ["RendererLearningRate"] = "--renderer-lr",
        ["RendererFieldOfView"] = "--renderer-fov",
    };

    /// <summary>The flag of a library option, or null when no flag of <c>train</c> sets it.</summary>
    public static string? Flag(string option) => TrainFlags.GetValueOrDefault(option);

    /// <summary>
    /// A trainer message rewritten with flags: "LH2FaceTrainer.Options.Epochs is -1; ..." becomes "--epochs is -1; ...",
    /// "Lower Options.LearningRate" becomes "Lower --lr", and option names inside an option error that have a flag become
    /// the flag. Options without a flag are named as library options. Other exceptions are returned as they are.
    /// </summary>
    public static Exception Translate(Exception e)
    {
        if (!e.Message.Contains("Options.", StringComparison.Ordinal))
            return e;
        var message = e.Message;
        if (e is ArgumentException { ParamName: { } option })
        {
            var suffix = $" (Parameter '{option}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal))
                message = message[..^suffix.Length];
            message = QualifiedOption().Replace(message, m => Flag(m.Groups[1].Value) ?? $"{m.Groups[1].Value} (a library option; the command line sets it through --preset)");
            message = BareOption().Replace(message, m => Flag(m.Value) ?? m.Value);
        }
        else
        {
            message = QualifiedOption().Replace(message, m => Flag(m.Groups[1].Value) ?? $"the library option {m.Groups[1].Value}");
        }
        return new CliException(message);
    }

    [GeneratedRegex(@"(?:LH2FaceTrainer\.)?Options\.(\w+)")]
    private static partial Regex QualifiedOption();

    [GeneratedRegex(@"\b(Backbone|InputSize|EmbeddingSize|Epochs|BatchSize|LearningRate|Seed|CheckpointDirectory|CheckpointEveryNSteps|RendererResolution|RendererLearningRate|RendererFieldOfView)\b")]
    private static partial Regex BareOption();
}

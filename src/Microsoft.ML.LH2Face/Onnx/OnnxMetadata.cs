using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.LH2Face.Onnx;

/// <summary>Keys this library writes into an exported model's <c>metadata_props</c>, and a reader.</summary>
internal static class OnnxMetadata
{
    /// <summary>Version of the exported graph's contract (inputs, outputs, metadata).</summary>
    public const string FormatVersion = "lh2face.format_version";

    /// <summary>Length of the embedding output.</summary>
    public const string EmbeddingSize = "lh2face.embedding_size";

    /// <summary>Input image size, e.g. "112x112".</summary>
    public const string InputSize = "lh2face.input_size";

    /// <summary>How pixels must be normalised before they are fed to the graph.</summary>
    public const string Normalisation = "lh2face.normalisation";

    /// <summary>The training head (loss) the embedding was trained with.</summary>
    public const string Head = "lh2face.head";

    /// <summary>The effective loss configuration as JSON: head description, weight of each term, sample rate, proxy settings.</summary>
    public const string Loss = "lh2face.loss";

    /// <summary>Side of the renderer outputs, e.g. "64x64" (only in models trained with the renderer).</summary>
    public const string RendererResolution = "lh2face.renderer_resolution";

    /// <summary>A short summary of the training run.</summary>
    public const string TrainingSummary = "lh2face.training_summary";

    /// <summary>
    /// Lower-case hex SHA-256 of the serialised graph (ModelProto.graph: nodes, initializers = the weights, inputs,
    /// outputs), written at export so that a model whose weights or graph changed after saving is refused on load
    /// (<see cref="LH2FaceModelFile.Verify"/>).
    /// </summary>
    public const string GraphSha256 = "lh2face.graph_sha256";

    /// <summary>The value of <see cref="GraphSha256"/> for <paramref name="model"/>.</summary>
    public static string HashGraph(ModelProto model)
        => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model.Graph.ToByteArray()));

    /// <summary>Parses <paramref name="onnxBytes"/> and returns its metadata_props (a repeated key keeps its last value).</summary>
    public static IReadOnlyDictionary<string, string> Read(byte[] onnxBytes)
    {
        var model = ModelProto.Parser.ParseFrom(onnxBytes);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in model.MetadataProps)
            result[entry.Key] = entry.Value;
        return result;
    }
}

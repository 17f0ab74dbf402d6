using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.LH2Face.Onnx;

/// <summary>Reading and hashing the metadata of <see cref="LH2FaceModelMetadata"/>.</summary>
internal static class OnnxMetadata
{
    /// <summary>The value of <see cref="LH2FaceModelMetadata.GraphSha256"/> for <paramref name="model"/>.</summary>
    public static string HashGraph(ModelProto model)
        => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model.Graph.ToByteArray()));

    /// <summary>The metadata_props of <paramref name="model"/> (a repeated key keeps its last value).</summary>
    public static IReadOnlyDictionary<string, string> Of(ModelProto model)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in model.MetadataProps)
            result[entry.Key] = entry.Value;
        return result;
    }

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

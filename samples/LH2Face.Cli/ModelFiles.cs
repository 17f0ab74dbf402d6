using System.Globalization;
using Microsoft.ML.LH2Face;
using Microsoft.ML.LH2Face.Data.Embedding;

namespace LH2Face.Cli;

/// <summary>
/// What 'embed' and 'evaluate' share about the model file they are given: ONNX or model.zip, the input size a
/// model.zip or an LH2Face ONNX graph names, and one error line when loading fails.
/// </summary>
internal static class ModelFiles
{
    /// <summary>Whether <paramref name="path"/> is an ONNX model (by extension; anything else is read as a model.zip).</summary>
    public static bool IsOnnx(string path) => string.Equals(Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Verifies a model.zip (zip CRCs, the graph's SHA-256; a damaged or edited file is named, not scored) and returns the
    /// input side its LH2Face metadata names, or <paramref name="fallback"/> (--input-size) when it names none.
    /// </summary>
    public static int ZipInputSize(string path, int fallback) => ReadZip(path, fallback).InputSize;

    /// <summary>
    /// Verifies a model.zip and reads what feeding it needs: the input size and column names its metadata names (a model
    /// saved before the library wrote the column names gets MlNetModelEmbedder's defaults and <paramref name="fallbackInputSize"/>
    /// when it names no size either).
    /// </summary>
    public static ZipModel ReadZip(string path, int fallbackInputSize)
        => LH2FaceModelFile.ReadInterface(path) is { } model
            ? new ZipModel(model.InputSize, model.ImageColumnName, model.EmbeddingColumnName)
            : new ZipModel(LH2FaceModelFile.Verify(path).InputSize is > 0 and var size ? size : fallbackInputSize, MlNetModelEmbedder.ImageColumn, MlNetModelEmbedder.EmbeddingColumn);

    /// <summary>An embedder for a model.zip read by <see cref="ReadZip"/>.</summary>
    public static MlNetModelEmbedder ZipEmbedder(string path, ZipModel zip)
        => new(path, zip.InputSize, imageColumn: zip.ImageColumn, embeddingColumn: zip.EmbeddingColumn);

    /// <summary>
    /// The input side of an ONNX graph exported by this library (metadata <see cref="LH2FaceModelMetadata.FormatVersion"/>
    /// and <see cref="LH2FaceModelMetadata.InputSize"/>, e.g. "112x112"), or null for any other ONNX model.
    /// </summary>
    public static int? LH2FaceOnnxInputSize(IReadOnlyDictionary<string, string> metadata)
        => metadata.ContainsKey(LH2FaceModelMetadata.FormatVersion) && metadata.TryGetValue(LH2FaceModelMetadata.InputSize, out var size)
            ? int.Parse(size.Split('x')[0], CultureInfo.InvariantCulture)
            : null;

    /// <summary>
    /// One line for a model that does not load: ONNX Runtime, the zip reader and ML.NET's loader each fail their own way
    /// (OnnxRuntimeException, FormatException, InvalidDataException, TargetInvocationException around any of them).
    /// The innermost message, on one line, with the library's option names turned into flags.
    /// </summary>
    public static CliException CannotLoad(string path, Exception error, string advice)
    {
        var inner = error;
        while (inner is System.Reflection.TargetInvocationException { InnerException: { } next })
            inner = next;
        var message = inner.Message.ReplaceLineEndings(" ").Trim().Replace("options.InputSize", "--input-size", StringComparison.Ordinal);
        return new CliException($"Cannot load model '{path}': {message} {advice}");
    }
}

/// <summary>What feeding a verified model.zip needs.</summary>
internal sealed record ZipModel(int InputSize, string ImageColumn, string EmbeddingColumn);

namespace Microsoft.ML.LH2Face.Onnx;

/// <summary>
/// A module that can write its inference (eval mode) computation into an ONNX graph: every module of the exported
/// network implements it (the backbone and its blocks, the renderer and its decoders and heads), so the TorchSharp
/// network and the ONNX graph are written side by side. Weights go in as initializers named by the prefix
/// and the module path.
/// </summary>
/// <typeparam name="TInput">The value name(s) the module reads.</typeparam>
/// <typeparam name="TOutput">The value name(s) it returns.</typeparam>
internal interface IOnnxExportable<in TInput, out TOutput>
{
    /// <summary>Appends the module's eval-mode computation on <paramref name="input"/> and returns the output value name(s).</summary>
    TOutput ExportOnnx(OnnxGraphBuilder graph, TInput input, string prefix);
}

/// <summary>A module with one input and one output value in the ONNX graph.</summary>
internal interface IOnnxExportable : IOnnxExportable<string, string>
{
}

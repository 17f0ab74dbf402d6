using Microsoft.ML.LH2Face.Onnx;

namespace Microsoft.ML.LH2Face.Backbones;

/// <summary>A module that can write its inference (eval mode) computation into an ONNX graph.</summary>
internal interface IOnnxExportable
{
    /// <summary>Appends the module's eval-mode computation on <paramref name="input"/> and returns the output value name.</summary>
    string ExportOnnx(OnnxGraphBuilder graph, string input, string prefix);
}

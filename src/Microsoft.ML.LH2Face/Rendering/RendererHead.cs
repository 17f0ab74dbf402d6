using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// A two-layer perceptron from the backbone features z to raw light or view parameters
/// (Linear - ReLU - Linear); <see cref="FaceRenderer"/> applies the ranges.
/// </summary>
internal sealed class RendererHead : Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>Hidden width.</summary>
    public const int Hidden = 32;

    /// <summary>The output layer starts at this fraction of its default initialisation: near-frontal views and neutral light at first.</summary>
    private const double OutputInitScale = 0.1;

    private readonly Linear hidden;
    private readonly Linear output;

    public RendererHead(string name, int featureSize, int outputs) : base(name)
    {
        hidden = Linear(featureSize, Hidden);
        output = Linear(Hidden, outputs);
        RegisterComponents();
        using var noGrad = no_grad();
        output.weight!.mul_(OutputInitScale);
        output.bias!.mul_(OutputInitScale);
    }

    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return output.forward(functional.relu(hidden.forward(features))).MoveToOuterDisposeScope();
    }

    public string ExportOnnx(OnnxGraphBuilder g, string features, string prefix)
        => OnnxLayers.Linear(g, output, g.Relu(OnnxLayers.Linear(g, hidden, features, prefix + ".hidden")), prefix + ".output");
}

using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// Decodes the identity embedding into a canonical map (depth or albedo): a linear layer to a
/// 64-channel map of side resolution / 16, then four stages of nearest x2 upsampling and a 3x3
/// convolution with ReLU (64-32-16-16 channels), then a 3x3 convolution to the output channels.
/// Raw outputs; <see cref="FaceRenderer"/> applies the range.
/// </summary>
internal sealed class CanonicalDecoder : Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>Channels of the seed map and after each upsampling stage.</summary>
    private static readonly int[] Widths = [64, 32, 16, 16];

    /// <summary>Upsampling stages; the resolution must be a multiple of 2^Stages.</summary>
    public const int Stages = 4;

    /// <summary>The final layer starts at this fraction of its default initialisation, so the first renders are near flat.</summary>
    private const double OutputInitScale = 0.1;

    private readonly Linear fc;
    private readonly ModuleList<RoutedConv2d> stages;
    private readonly RoutedConv2d output;
    private readonly int seedSide;

    public CanonicalDecoder(string name, int embeddingSize, int resolution, int outputChannels) : base(name)
    {
        seedSide = resolution >> Stages;
        fc = Linear(embeddingSize, Widths[0] * seedSide * seedSide);
        stages = new ModuleList<RoutedConv2d>();
        for (int i = 0; i < Stages; i++)
            stages.Add(new RoutedConv2d($"stages.{i}", Widths[Math.Max(i - 1, 0)], Widths[i], 3, padding: 1));
        // 1 (depth) or 3 (albedo) output channels: off oneDNN's block, so it trains through RoutedConv2d's padded route.
        output = new RoutedConv2d("output", Widths[^1], outputChannels, 3, padding: 1);
        RegisterComponents();
        using var noGrad = no_grad();
        output.Weight.mul_(OutputInitScale);
        output.Bias!.mul_(OutputInitScale);
    }

    public override Tensor forward(Tensor embedding)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(fc.forward(embedding)).view(-1, Widths[0], seedSide, seedSide);
        foreach (var conv in stages)
            y = functional.relu(conv.forward(functional.interpolate(y, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)));
        return output.forward(y).MoveToOuterDisposeScope();
    }

    public string ExportOnnx(OnnxGraphBuilder g, string embedding, string prefix)
    {
        var y = g.Relu(OnnxLayers.Linear(g, fc, embedding, prefix + ".fc"));
        y = g.Reshape(y, -1, Widths[0], seedSide, seedSide);
        for (int i = 0; i < Stages; i++)
            y = g.Relu(OnnxLayers.Conv(g, stages[i], g.ResizeNearest(y, 1, 1, 2, 2), $"{prefix}.stages.{i}"));
        return OnnxLayers.Conv(g, output, y, prefix + ".output");
    }
}

using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>CosFace (Wang et al., CVPR 2018): logits s * (cos - m) at the target, s * cos elsewhere.</summary>
internal sealed class CosFaceHead : MarginHead
{
    /// <summary>"CosFace(s=.., m=..)": the description in logs, checkpoint fingerprints and the ONNX metadata.</summary>
    public static string Describe(HeadSettings o) => $"CosFace(s={LossConfiguration.F(o.Scale)}, m={LossConfiguration.F(o.CosFaceMargin)})";

    private readonly double scale;
    private readonly double margin;

    public CosFaceHead(int classCount, int embeddingSize, double scale, double margin) : base(nameof(CosFaceHead), classCount, embeddingSize)
    {
        this.scale = scale;
        this.margin = margin;
        RegisterComponents();
    }

    public override Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows)
    {
        using var scope = NewDisposeScope();
        var cos = cosines!;
        return (WithTargets(cos, labels, TargetCosines(cos, labels) - margin) * scale).MoveToOuterDisposeScope();
    }

    public override Tensor? LogitScale(Tensor norms) => tensor(scale, norms.dtype, norms.device);
}

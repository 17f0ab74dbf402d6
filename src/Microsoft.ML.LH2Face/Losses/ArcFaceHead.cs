using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>ArcFace (Deng et al., CVPR 2019): logits s * cos(theta + m) at the target, s * cos elsewhere (easy_margin off).</summary>
internal sealed class ArcFaceHead : MarginHead
{
    /// <summary>"ArcFace(s=.., m=..)": the description in logs, checkpoint fingerprints and the ONNX metadata.</summary>
    public static string Describe(HeadSettings o) => $"ArcFace(s={LossConfiguration.F(o.Scale)}, m={LossConfiguration.F(o.ArcFaceMargin)})";

    private readonly double scale;
    private readonly double margin;

    public ArcFaceHead(int classCount, int embeddingSize, double scale, double margin) : base(nameof(ArcFaceHead), classCount, embeddingSize)
    {
        this.scale = scale;
        this.margin = margin;
        RegisterComponents();
    }

    public override Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows)
    {
        using var scope = NewDisposeScope();
        var cos = cosines!;
        var target = AddAngularMargin(TargetCosines(cos, labels), tensor(margin, cos.dtype, cos.device));
        return (WithTargets(cos, labels, target) * scale).MoveToOuterDisposeScope();
    }

    public override Tensor? LogitScale(Tensor norms) => tensor(scale, norms.dtype, norms.device);
}

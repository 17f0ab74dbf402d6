using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>ArcFace: logits s * cos(theta + m) at the target, s * cos elsewhere (easy_margin off).</summary>
internal sealed class ArcFaceHead : MarginHead
{
    private readonly double scale;
    private readonly double margin;

    public ArcFaceHead(int classCount, int embeddingSize, double scale, double margin) : base(nameof(ArcFaceHead), classCount, embeddingSize)
    {
        this.scale = scale;
        this.margin = margin;
        RegisterComponents();
    }

    public override Tensor forward(Tensor embeddings, Tensor norms, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var cos = Cosines(embeddings);
        var theta = cos.clamp(-1 + AcosEpsilon, 1 - AcosEpsilon).acos();
        // Beyond theta + m = pi, cos(theta + m) stops decreasing: use the original ArcFace
        // fallback cos - m sin m there so the target logit stays monotonic in theta.
        var withMargin = where(theta + margin < Math.PI, (theta + margin).cos(), cos - margin * Math.Sin(margin));
        var logits = where(TargetMask(labels, ClassCount), withMargin, cos) * scale;
        return logits.MoveToOuterDisposeScope();
    }
}

using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>CosFace: logits s * (cos - m) at the target, s * cos elsewhere.</summary>
internal sealed class CosFaceHead : MarginHead
{
    private readonly double scale;
    private readonly double margin;

    public CosFaceHead(int classCount, int embeddingSize, double scale, double margin) : base(nameof(CosFaceHead), classCount, embeddingSize)
    {
        this.scale = scale;
        this.margin = margin;
        RegisterComponents();
    }

    public override Tensor forward(Tensor embeddings, Tensor norms, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var cos = Cosines(embeddings);
        var logits = (cos - TargetMask(labels, ClassCount).to(cos.dtype) * margin) * scale;
        return logits.MoveToOuterDisposeScope();
    }
}

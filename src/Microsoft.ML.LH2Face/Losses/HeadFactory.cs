using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// Builds the margin head chosen in the head settings, and asks it to describe itself: the only place that switches over
/// <see cref="LH2FaceHead"/>. Each head class owns its description (for the log, checkpoint fingerprints and the ONNX
/// metadata) and the weights of its extra loss terms.
/// </summary>
internal static class HeadFactory
{
    public static MarginHead Create(HeadSettings head, int classCount)
    {
        return head.Kind switch
        {
            LH2FaceHead.LH2Face => new VmfUamHead(classCount, head.EmbeddingSize, head),
            LH2FaceHead.ArcFace => new ArcFaceHead(classCount, head.EmbeddingSize, head.Scale, head.ArcFaceMargin),
            LH2FaceHead.CosFace => new CosFaceHead(classCount, head.EmbeddingSize, head.Scale, head.CosFaceMargin),
            LH2FaceHead.Softmax => new SoftmaxHead(classCount, head.EmbeddingSize),
            LH2FaceHead.AdaFace => new AdaFaceHead(classCount, head.EmbeddingSize, head),
            LH2FaceHead.MagFace => new MagFaceHead(classCount, head.EmbeddingSize, head),
            _ => throw Unknown(head),
        };
    }

    /// <summary>The head and the settings it reads, e.g. "ArcFace(s=64, m=0.5)".</summary>
    public static string Describe(HeadSettings head) => head.Kind switch
    {
        LH2FaceHead.LH2Face => VmfUamHead.Describe(head),
        LH2FaceHead.ArcFace => ArcFaceHead.Describe(head),
        LH2FaceHead.CosFace => CosFaceHead.Describe(head),
        LH2FaceHead.Softmax => SoftmaxHead.Describe(head),
        LH2FaceHead.AdaFace => AdaFaceHead.Describe(head),
        LH2FaceHead.MagFace => MagFaceHead.Describe(head),
        _ => head.Kind.ToString(),
    };

    /// <summary>The head's own loss terms besides the cross-entropy that are on, with their weights (e.g. MagFace's g).</summary>
    public static IEnumerable<(string Term, float Weight)> ExtraTermWeights(HeadSettings head) => head.Kind switch
    {
        LH2FaceHead.LH2Face => VmfUamHead.ExtraTermWeights(head),
        LH2FaceHead.MagFace => MagFaceHead.ExtraTermWeights(head),
        _ => [],
    };

    private static ArgumentOutOfRangeException Unknown(HeadSettings head)
        => new("options", head.Kind, $"LH2FaceTrainer.Options.Head '{head.Kind}' is unknown: use one of {string.Join(", ", Enum.GetNames<LH2FaceHead>())}.");
}

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// Builds the margin head chosen in the options, and asks it to describe itself: the only place that switches over
/// <see cref="LH2FaceHead"/>. Each head class owns its description (for the log, checkpoint fingerprints and the ONNX
/// metadata) and the weights of its extra loss terms.
/// </summary>
internal static class HeadFactory
{
    public static MarginHead Create(LH2FaceTrainer.Options options, int classCount)
    {
        return options.Head switch
        {
            LH2FaceHead.LH2Face => new VmfUamHead(classCount, options.EmbeddingSize, options),
            LH2FaceHead.ArcFace => new ArcFaceHead(classCount, options.EmbeddingSize, options.Scale, options.ArcFaceMargin),
            LH2FaceHead.CosFace => new CosFaceHead(classCount, options.EmbeddingSize, options.Scale, options.CosFaceMargin),
            LH2FaceHead.Softmax => new SoftmaxHead(classCount, options.EmbeddingSize),
            LH2FaceHead.AdaFace => new AdaFaceHead(classCount, options.EmbeddingSize, options),
            LH2FaceHead.MagFace => new MagFaceHead(classCount, options.EmbeddingSize, options),
            _ => throw Unknown(options),
        };
    }

    /// <summary>The head and the settings it reads, e.g. "ArcFace(s=64, m=0.5)".</summary>
    public static string Describe(LH2FaceTrainer.Options options) => options.Head switch
    {
        LH2FaceHead.LH2Face => VmfUamHead.Describe(options),
        LH2FaceHead.ArcFace => ArcFaceHead.Describe(options),
        LH2FaceHead.CosFace => CosFaceHead.Describe(options),
        LH2FaceHead.Softmax => SoftmaxHead.Describe(options),
        LH2FaceHead.AdaFace => AdaFaceHead.Describe(options),
        LH2FaceHead.MagFace => MagFaceHead.Describe(options),
        _ => options.Head.ToString(),
    };

    /// <summary>The head's own loss terms besides the cross-entropy that are on, with their weights (e.g. MagFace's g).</summary>
    public static IEnumerable<(string Term, float Weight)> ExtraTermWeights(LH2FaceTrainer.Options options) => options.Head switch
    {
        LH2FaceHead.LH2Face => VmfUamHead.ExtraTermWeights(options),
        LH2FaceHead.MagFace => MagFaceHead.ExtraTermWeights(options),
        _ => [],
    };

    private static ArgumentOutOfRangeException Unknown(LH2FaceTrainer.Options options)
        => new(nameof(options), options.Head, $"LH2FaceTrainer.Options.Head '{options.Head}' is unknown: use one of {string.Join(", ", Enum.GetNames<LH2FaceHead>())}.");
}

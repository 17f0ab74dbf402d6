namespace Microsoft.ML.LH2Face.Losses;

/// <summary>Builds the margin head chosen in the options.</summary>
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
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Head,
                $"LH2FaceTrainer.Options.Head '{options.Head}' is unknown: use one of {string.Join(", ", Enum.GetNames<LH2FaceHead>())}."),
        };
    }
}

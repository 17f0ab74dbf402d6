using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Backbones;

/// <summary>Builds the backbone module for a <see cref="LH2FaceBackbone"/>.</summary>
internal static class BackboneFactory
{
    private static readonly int[] StandardWidths = { 64, 128, 256, 512 };
    private static readonly int[] CompactWidths = { 16, 32, 64, 128 };

    public static nn.Module<Tensor, Tensor> Create(LH2FaceBackbone kind, int inputSize, int embeddingSize, double dropoutRate, LH2FaceEmbeddingNorm embeddingNorm = LH2FaceEmbeddingNorm.FrozenScale)
    {
        return kind switch
        {
            LH2FaceBackbone.Compact => new IResNet(new[] { 1, 1, 1, 1 }, CompactWidths, inputSize, embeddingSize, dropoutRate, embeddingNorm),
            LH2FaceBackbone.IResNet18 => new IResNet(new[] { 2, 2, 2, 2 }, StandardWidths, inputSize, embeddingSize, dropoutRate, embeddingNorm),
            LH2FaceBackbone.IResNet34 => new IResNet(new[] { 3, 4, 6, 3 }, StandardWidths, inputSize, embeddingSize, dropoutRate, embeddingNorm),
            LH2FaceBackbone.IResNet50 => new IResNet(new[] { 3, 4, 14, 3 }, StandardWidths, inputSize, embeddingSize, dropoutRate, embeddingNorm),
            LH2FaceBackbone.IResNet100 => new IResNet(new[] { 3, 13, 30, 3 }, StandardWidths, inputSize, embeddingSize, dropoutRate, embeddingNorm),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind,
                $"Unknown backbone '{kind}': use one of {string.Join(", ", Enum.GetNames<LH2FaceBackbone>())}."),
        };
    }
}

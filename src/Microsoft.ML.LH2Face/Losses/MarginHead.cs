using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// A margin head owns the class proxies W (one row per identity) and turns L2-normalised embeddings,
/// their feature norms and the labels into logits: the one signature every head shares (as AdaFace's
/// head.py), so heads swap freely. The cross-entropy over the logits is taken by the caller.
/// </summary>
internal abstract class MarginHead : Module<Tensor, Tensor, Tensor, Tensor>
{
    /// <summary>Clamp for cosines that feed acos (METHOD.md notation).</summary>
    protected const double AcosEpsilon = 1e-3;

    /// <summary>Clamp for cosines elsewhere.</summary>
    protected const double CosineEpsilon = 1e-7;

    /// <summary>The class proxies W, C x d; normalised on use.</summary>
    protected readonly Parameter proxies;

    protected MarginHead(string name, int classCount, int embeddingSize) : base(name)
    {
        var w = empty(classCount, embeddingSize);
        init.normal_(w, 0, 0.01);
        proxies = Parameter(w);
    }

    public int ClassCount => (int)proxies.shape[0];

    /// <summary>The extra loss terms the head adds to the cross-entropy (name, value), e.g. a norm regulariser.</summary>
    public virtual IReadOnlyList<(string Name, Tensor Value)> ExtraLosses(Tensor norms) => Array.Empty<(string, Tensor)>();

    /// <summary>Cosines between normalised embeddings [B, d] and every normalised proxy: [B, C].</summary>
    protected Tensor Cosines(Tensor embeddings)
        => functional.linear(embeddings, functional.normalize(proxies, p: 2, dim: 1)).clamp(-1 + CosineEpsilon, 1 - CosineEpsilon);

    /// <summary>A [B, C] mask that is true at (i, label_i).</summary>
    protected static Tensor TargetMask(Tensor labels, long classCount)
        => functional.one_hot(labels, classCount).to(ScalarType.Bool);
}

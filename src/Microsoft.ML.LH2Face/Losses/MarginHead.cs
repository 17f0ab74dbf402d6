using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// A margin head owns the class proxies W (one row per identity) and turns L2-normalised embeddings,
/// their feature norms and the labels into logits: the one signature every head shares (as AdaFace's
/// head.py), so heads swap freely. The cross-entropy, the proxy losses and Partial-FC sampling are
/// taken by <see cref="FaceLoss"/>, which hands the head the cosines over the sampled proxy rows.
/// </summary>
internal abstract class MarginHead : Module<Tensor, Tensor, Tensor, Tensor>
{
    /// <summary>Clamp for cosines that feed acos (METHOD.md notation).</summary>
    protected internal const double AcosEpsilon = 1e-3;

    /// <summary>Clamp for cosines elsewhere.</summary>
    protected internal const double CosineEpsilon = 1e-7;

    /// <summary>The class proxies W, C x d; normalised on use.</summary>
    protected readonly Parameter proxies;

    protected MarginHead(string name, int classCount, int embeddingSize) : base(name)
    {
        var w = empty(classCount, embeddingSize);
        init.normal_(w, 0, 0.01);
        proxies = Parameter(w);
    }

    public int ClassCount => (int)proxies.shape[0];

    /// <summary>The proxies W (the rows the proxy losses also use; the optimiser may give them their own learning rate).</summary>
    public Parameter Proxies => proxies;

    /// <summary>Whether <see cref="Logits"/> reads the cosine matrix (all but the plain softmax do).</summary>
    public virtual bool UsesCosines => true;

    /// <summary>Logits over every class: [B, C].</summary>
    public override Tensor forward(Tensor embeddings, Tensor norms, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var cos = UsesCosines ? Cosines(embeddings, proxies, InverseNorms(proxies)) : null;
        return Logits(cos, embeddings, norms, labels, proxies).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits over a set of proxy rows (all classes, or a Partial-FC sample): <paramref name="cosines"/>
    /// [B, C'] are the clamped cosines to those rows (null when <see cref="UsesCosines"/> is false),
    /// <paramref name="labels"/> index the rows, <paramref name="proxyRows"/> are the raw rows [C', d].
    /// In training mode a head updates its running statistics here.
    /// </summary>
    public abstract Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows);

    /// <summary>The scale the head multiplies cosines by ([B, 1] or a scalar), used to report the margin in logit units; null for a head without one.</summary>
    public abstract Tensor? LogitScale(Tensor norms);

    /// <summary>The extra loss terms the head adds to the cross-entropy (name, weighted value), e.g. a norm regulariser. <paramref name="targetCosines"/> is cos(x_i, w_(y_i)) [B, 1].</summary>
    public virtual IReadOnlyList<(string Name, Tensor Value)> ExtraLosses(Tensor norms, Tensor targetCosines) => Array.Empty<(string, Tensor)>();

    /// <summary>Cosines between normalised embeddings [B, d] and normalised proxy rows [C', d]: [B, C'].</summary>
    public static Tensor Cosines(Tensor embeddings, Tensor normalisedProxies)
        => functional.linear(embeddings, normalisedProxies).clamp(-1 + CosineEpsilon, 1 - CosineEpsilon);

    /// <summary>
    /// The same cosines from raw proxy rows [C', d] and their inverse norms [C']: (x W^T) / ||w_j||. Scaling the [B, C'] product
    /// instead of normalising the [C', d] rows is cheaper whenever B &lt; d (128 vs 512) and keeps no normalised copy of W.
    /// </summary>
    public static Tensor Cosines(Tensor embeddings, Tensor proxyRows, Tensor inverseNorms)
        => (functional.linear(embeddings, proxyRows) * inverseNorms).clamp(-1 + CosineEpsilon, 1 - CosineEpsilon);

    /// <summary>1 / max(||w_j||, 1e-12) for proxy rows [C', d]: [C'].</summary>
    public static Tensor InverseNorms(Tensor proxyRows) => proxyRows.norm(1, keepdim: false).clamp_min(1e-12).reciprocal();

    /// <summary>The cosine of each sample to its own class: [B, 1].</summary>
    protected static Tensor TargetCosines(Tensor cosines, Tensor labels) => cosines.gather(1, labels.unsqueeze(1));

    /// <summary>Writes the target logits [B, 1] into <paramref name="logits"/> [B, C'] at (i, label_i); differentiable in both.</summary>
    protected static Tensor WithTargets(Tensor logits, Tensor labels, Tensor targetLogits) => logits.scatter(1, labels.unsqueeze(1), targetLogits);

    /// <summary>cos(theta + m) for theta + m &lt; pi; beyond it cos(theta + m) stops decreasing, so use the original ArcFace fallback cos - m sin m to keep the target logit monotonic in theta.</summary>
    protected static Tensor AddAngularMargin(Tensor targetCosines, Tensor margin)
    {
        var theta = targetCosines.clamp(-1 + AcosEpsilon, 1 - AcosEpsilon).acos();
        return where(theta + margin < Math.PI, (theta + margin).cos(), targetCosines - margin * margin.sin());
    }

    /// <summary>
    /// AdaFace's target cosine (Kim et al., CVPR 2022, eq. 10): cos(clip(theta + g_angle, eps, pi - eps)) - g_add with
    /// g_angle = -m z and g_add = m z + m, where z = clip(h (||z|| - mu) / (sigma + eps), -1, 1) is the batch-normalised norm
    /// <paramref name="normScaler"/> [B, 1] (no gradient), so high-norm samples get an additive-like and low-norm samples an angular-like margin.
    /// </summary>
    protected static Tensor AdaFaceTargetCosines(Tensor targetCosines, Tensor normScaler, double margin)
    {
        var theta = targetCosines.clamp(-1 + AcosEpsilon, 1 - AcosEpsilon).acos();
        var thetaWithMargin = (theta - margin * normScaler).clamp(AcosEpsilon, Math.PI - AcosEpsilon);
        return thetaWithMargin.cos() - (margin + margin * normScaler);
    }

    /// <summary>AdaFace's z = clip(h (norm - mean) / (std + eps), -1, 1) with eps = 1e-3, detached.</summary>
    protected static Tensor NormScaler(Tensor norms, Tensor mean, Tensor std, double h)
        => ((norms.detach() - mean) / (std + AcosEpsilon) * h).clamp(-1, 1);

    /// <summary>Moves the running mean and (unbiased) standard deviation of <paramref name="norms"/> by <paramref name="momentum"/>, in place without gradient.</summary>
    protected static void UpdateNormStatistics(Tensor norms, Tensor mean, Tensor std, double momentum)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var n = norms.detach();
        mean.mul_(1 - momentum).add_(n.mean() * momentum);
        if (n.numel() > 1)
            std.mul_(1 - momentum).add_(n.std() * momentum);
    }
}

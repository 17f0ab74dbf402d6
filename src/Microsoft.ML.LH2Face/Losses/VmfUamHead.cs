using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// The LH2Face L_vMF head with the Uncertainty-Aware Margin (METHOD.md sections 1-2).
/// logit_ij = kappa_i' cos_ij; at the target, kappa_i' cos_iy - M_i, with kappa_i' = clamp(||z_i||,
/// KappaMin, KappaMax). The vMF normaliser log C_n(kappa_i) is the same for every class of sample i and
/// cancels in the softmax, so it is not computed here. mu_kappa, the running mean feature norm, is a
/// buffer (saved with the weights) updated in training mode with momentum 0.01 from an initial 20.
/// </summary>
internal sealed class VmfUamHead : MarginHead
{
    private readonly Tensor mean_norm;
    private readonly double kappaMin;
    private readonly double kappaMax;
    private readonly double marginCoefficient;
    private readonly double normMomentum;
    private readonly double normRegularisationWeight;
    private readonly LH2FaceMarginFunction marginFunction;
    private readonly LH2FaceNormControl normControl;

    public VmfUamHead(int classCount, int embeddingSize, LH2FaceTrainer.Options options) : base(nameof(VmfUamHead), classCount, embeddingSize)
    {
        kappaMin = options.KappaMin;
        kappaMax = options.KappaMax;
        marginCoefficient = options.MarginCoefficient;
        normMomentum = options.NormMomentum;
        normRegularisationWeight = options.NormRegularisationWeight;
        marginFunction = options.MarginFunction;
        normControl = options.NormControl;
        mean_norm = tensor(options.InitialMeanNorm);
        RegisterComponents();
    }

    /// <summary>The running mean feature norm mu_kappa.</summary>
    public float MeanNorm => mean_norm.item<float>();

    public override Tensor forward(Tensor embeddings, Tensor norms, Tensor labels)
    {
        using var scope = NewDisposeScope();
        if (training)
        {
            using var noGrad = no_grad();
            mean_norm.mul_(1 - normMomentum).add_(norms.detach().mean() * normMomentum);
        }
        var kappa = norms.clamp(kappaMin, kappaMax);
        if (normControl == LH2FaceNormControl.Detach)
            kappa = kappa.detach();
        var cos = Cosines(embeddings);
        var mu = mean_norm.detach();
        var margin = marginFunction switch
        {
            LH2FaceMarginFunction.Literal => (mu * marginCoefficient).expand(norms.shape),
            LH2FaceMarginFunction.QualityScaled => kappa * marginCoefficient * (norms / mu).clamp(0, 2),
            _ => throw new ArgumentOutOfRangeException(nameof(marginFunction), marginFunction, "Unknown margin function."),
        };
        var logits = kappa * cos - TargetMask(labels, ClassCount).to(cos.dtype) * margin;
        return logits.MoveToOuterDisposeScope();
    }

    public override IReadOnlyList<(string Name, Tensor Value)> ExtraLosses(Tensor norms)
    {
        if (normControl != LH2FaceNormControl.Regulariser || normRegularisationWeight == 0)
            return Array.Empty<(string, Tensor)>();
        using var scope = NewDisposeScope();
        // MagFace's g(a) = a / u_a^2 + 1 / a on the clamped norm: minimal at a = KappaMax.
        var a = norms.clamp(kappaMin, kappaMax);
        var g = (a / (kappaMax * kappaMax) + a.reciprocal()).mean() * normRegularisationWeight;
        return new[] { ("norm_regulariser", g.MoveToOuterDisposeScope()) };
    }
}

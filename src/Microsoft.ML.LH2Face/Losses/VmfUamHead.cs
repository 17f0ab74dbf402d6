using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// The LH2Face L_vMF head with the Uncertainty-Aware Margin (METHOD.md sections 1-2).
/// logit_ij = kappa_i' cos_ij; at the target, kappa_i' cos_iy - M_i, with kappa_i' = clamp(||z_i||,
/// KappaMin, KappaMax). The vMF normaliser log C_n(kappa_i) is the same for every class of sample i and
/// cancels in the softmax, so the logits leave it out; it enters through the VmfNll norm control.
/// mu_kappa, the running mean feature norm, is a buffer (saved with the weights) updated in training mode
/// with momentum 0.01 from an initial 20; the AdaFace margin function also keeps the running standard
/// deviation (initial 100, as AdaFace).
/// </summary>
internal sealed class VmfUamHead : MarginHead
{
    /// <summary>"LH2Face(margin, coefficient, kappa scale, kappa range, norm control)": the description in logs, checkpoint fingerprints and the ONNX metadata.</summary>
    public static string Describe(HeadSettings o)
    {
        static string F(float value) => LossConfiguration.F(value);
        return $"LH2Face(margin={o.MarginFunction}, coefficient={F(o.MarginCoefficient)}" +
            o.KappaScale switch
            {
                LH2FaceKappaScale.Raw => "",
                LH2FaceKappaScale.SqrtDimension => $", kappa_scale=SqrtDimension(s={F((float)Math.Sqrt(o.EmbeddingSize))})",
                _ => $", kappa_scale={o.KappaScale}(s={F(o.Scale)})",
            } +
            (o.HardNegativeEmphasis ? ", hard_negatives=curricular" : "") +
            (o.MarginFunction == LH2FaceMarginFunction.AdaFace ? $", h={F(o.AdaFaceH)}" : "") +
            $", kappa=[{F(o.KappaMin)},{F(o.KappaMax)}], norm={o.NormControl}" + o.NormControl switch
            {
                LH2FaceNormControl.Regulariser => $", lambda_g={F(o.NormRegularisationWeight)})",
                LH2FaceNormControl.VmfNll => $", lambda_nll={F(o.VmfNllWeight)}, n={o.VmfDimensionFor(o.EmbeddingSize)})",
                _ => ")",
            };
    }

    /// <summary>The norm control's term (the regulariser or the vMF NLL) when its weight is not 0.</summary>
    public static IEnumerable<(string Term, float Weight)> ExtraTermWeights(HeadSettings o)
    {
        if (o.NormControl == LH2FaceNormControl.Regulariser && o.NormRegularisationWeight != 0)
            yield return ("norm_regulariser", o.NormRegularisationWeight);
        if (o.NormControl == LH2FaceNormControl.VmfNll && o.VmfNllWeight != 0)
            yield return ("vmf_nll", o.VmfNllWeight);
    }

    private readonly Tensor mean_norm;
    private readonly Tensor std_norm;
    private readonly Tensor? hard_negative_t;
    private readonly double kappaMin;
    private readonly double kappaMax;
    private readonly double marginCoefficient;
    private readonly double adaFaceH;
    private readonly double normMomentum;
    private readonly double normRegularisationWeight;
    private readonly double nllWeight;
    private readonly int vmfDimension;
    private readonly LH2FaceMarginFunction marginFunction;
    private readonly LH2FaceNormControl normControl;
    private readonly LH2FaceKappaScale kappaScale;
    private readonly double scale;

    public VmfUamHead(int classCount, int embeddingSize, HeadSettings options) : base(nameof(VmfUamHead), classCount, embeddingSize)
    {
        kappaMin = options.KappaMin;
        kappaMax = options.KappaMax;
        marginCoefficient = options.MarginCoefficient;
        adaFaceH = options.AdaFaceH;
        normMomentum = options.NormMomentum;
        normRegularisationWeight = options.NormRegularisationWeight;
        nllWeight = options.VmfNllWeight;
        vmfDimension = options.VmfDimensionFor(embeddingSize);
        marginFunction = options.MarginFunction;
        normControl = options.NormControl;
        kappaScale = options.KappaScale;
        // SqrtDimension is Fixed at sqrt(d), rounded to float as a Scale option of that value would be.
        scale = options.KappaScale == LH2FaceKappaScale.SqrtDimension ? (float)Math.Sqrt(embeddingSize) : options.Scale;
        mean_norm = tensor(options.InitialMeanNorm);
        std_norm = tensor(100f);
        // Registered only when used, so models without it keep their state-dict layout.
        hard_negative_t = options.HardNegativeEmphasis ? tensor(0f) : null;
        RegisterComponents();
    }

    /// <summary>The running mean feature norm mu_kappa.</summary>
    public float MeanNorm => mean_norm.item<float>();

    /// <summary>The running standard deviation of the feature norm (used by the AdaFace margin function).</summary>
    public float StdNorm => std_norm.item<float>();

    /// <summary>n of the vMF normaliser log C_n.</summary>
    public int VmfDimension => vmfDimension;

    public override Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows)
    {
        using var scope = NewDisposeScope();
        if (training)
            UpdateNormStatistics(norms, mean_norm, std_norm, normMomentum);
        var kappa = Kappa(norms);
        var cos = cosines!;
        var targetCos = TargetCosines(cos, labels);
        var mu = mean_norm.detach();
        var target = marginFunction switch
        {
            // The margin in logit units: m times the mean concentration (mu_kappa, or the scale the concentration is relative to).
            LH2FaceMarginFunction.Literal => kappaScale == LH2FaceKappaScale.Raw ? kappa * targetCos - mu * marginCoefficient : kappa * targetCos - scale * marginCoefficient,
            LH2FaceMarginFunction.QualityScaled => kappa * (targetCos - marginCoefficient * (norms / mu).clamp(0, 2)),
            LH2FaceMarginFunction.AdaFace => kappa * AdaFaceTargetCosines(
                targetCos.clamp(-1 + AcosEpsilon, 1 - AcosEpsilon), NormScaler(norms, mu, std_norm.detach(), adaFaceH), marginCoefficient),
            // The certainty weight is detached, as AdaFace's: the margin follows the norm without pushing it.
            LH2FaceMarginFunction.QualityAngular => kappa * AddAngularMargin(targetCos, (norms.detach() / mu).clamp(0, 2) * marginCoefficient),
            LH2FaceMarginFunction.Angular => kappa * AddAngularMargin(targetCos, full_like(targetCos, marginCoefficient)),
            _ => throw new ArgumentOutOfRangeException(nameof(marginFunction), marginFunction,
                $"Unknown margin function '{marginFunction}': use one of {string.Join(", ", Enum.GetNames<LH2FaceMarginFunction>())}."),
        };
        var negatives = hard_negative_t is null ? cos : EmphasiseHardNegatives(cos, targetCos, target / kappa, hard_negative_t, training, normMomentum);
        return WithTargets(kappa * negatives, labels, target).MoveToOuterDisposeScope();
    }

    public override Tensor? LogitScale(Tensor norms) => Kappa(norms);

    /// <summary>
    /// CurricularFace's hard-negative modulation (Huang et al., CVPR 2020): a negative cosine above the sample's target
    /// cosine with its margin becomes cos * (t + cos), t the running mean of the target cosines (a buffer, updated in
    /// training with the norm momentum, initial 0), so hard negatives weigh little early and more as training aligns the
    /// samples. <paramref name="marginTarget"/> is the target with its margin in cosine units [B, 1] (detached here).
    /// </summary>
    private static Tensor EmphasiseHardNegatives(Tensor cos, Tensor targetCos, Tensor marginTarget, Tensor t, bool training, double momentum)
    {
        if (training)
        {
            using var noGrad = no_grad();
            t.mul_(1 - momentum).add_(targetCos.detach().mean() * momentum);
        }
        var hard = cos.gt(marginTarget.detach());
        return where(hard, cos * (t.detach() + cos), cos);
    }

    public override IReadOnlyList<(string Name, Tensor Value)> ExtraLosses(Tensor norms, Tensor targetCosines)
    {
        using var scope = NewDisposeScope();
        switch (normControl)
        {
            case LH2FaceNormControl.Regulariser when normRegularisationWeight != 0:
            {
                // MagFace's g(a) = a / u_a^2 + 1 / a on the norm clamped to [KappaMin, KappaMax]: minimal at a = KappaMax.
                return new[] { ("norm_regulariser", MagFaceHead.Regulariser(norms, kappaMin, kappaMax, normRegularisationWeight).MoveToOuterDisposeScope()) };
            }
            case LH2FaceNormControl.VmfNll when nllWeight != 0:
            {
                // -log f(x_i; w_y, kappa_i) = -log C_n(kappa_i) - kappa_i cos_iy on the raw norm. The cosine is detached:
                // this term calibrates kappa (its minimum is at A_n(kappa) = cos_iy) and leaves the directions to L_vMF.
                var nll = -(VonMisesFisherOps.LogNormaliser(norms, vmfDimension) + norms * targetCosines.detach());
                return new[] { ("vmf_nll", (nll.mean() * nllWeight).MoveToOuterDisposeScope()) };
            }
            default:
                return Array.Empty<(string, Tensor)>();
        }
    }

    /// <summary>The logit scale kappa' of each sample (see <see cref="LH2FaceKappaScale"/>), without gradient under the Detach norm control.</summary>
    private Tensor Kappa(Tensor norms)
    {
        var kappa = kappaScale switch
        {
            LH2FaceKappaScale.Raw => norms.clamp(kappaMin, kappaMax),
            LH2FaceKappaScale.Relative => (norms * (scale / mean_norm.detach())).clamp(kappaMin, kappaMax),
            LH2FaceKappaScale.Fixed or LH2FaceKappaScale.SqrtDimension => full_like(norms, scale),
            _ => throw new ArgumentOutOfRangeException(nameof(kappaScale), kappaScale,
                $"Unknown kappa scale '{kappaScale}': use one of {string.Join(", ", Enum.GetNames<LH2FaceKappaScale>())}."),
        };
        return normControl == LH2FaceNormControl.Detach ? kappa.detach() : kappa;
    }
}

using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// MagFace (Meng et al., CVPR 2021): with a = clamp(||z||, l_a, u_a), logits s * cos(theta + m(a)) at the target and
/// s * cos elsewhere, m(a) = (u_m - l_m) / (u_a - l_a) * (a - l_a) + l_m rising linearly with the norm; plus the
/// regulariser lambda_g * mean(g(a)), g(a) = a / u_a^2 + 1 / a, which rewards high norms for confident samples.
/// l_a, u_a are <see cref="LH2FaceTrainer.Options.KappaMin"/> and <see cref="LH2FaceTrainer.Options.KappaMax"/>.
/// </summary>
internal sealed class MagFaceHead : MarginHead
{
    /// <summary>"MagFace(s, l_a, u_a, l_m, u_m, lambda_g)": the description in logs, checkpoint fingerprints and the ONNX metadata.</summary>
    public static string Describe(HeadSettings o)
        => $"MagFace(s={LossConfiguration.F(o.Scale)}, l_a={LossConfiguration.F(o.KappaMin)}, u_a={LossConfiguration.F(o.KappaMax)}, l_m={LossConfiguration.F(o.MagFaceMarginMin)}, u_m={LossConfiguration.F(o.MagFaceMarginMax)}, lambda_g={LossConfiguration.F(o.NormRegularisationWeight)})";

    /// <summary>The regulariser g when its weight is not 0.</summary>
    public static IEnumerable<(string Term, float Weight)> ExtraTermWeights(HeadSettings o)
        => o.NormRegularisationWeight != 0 ? [("magface_g", o.NormRegularisationWeight)] : [];

    private readonly double scale;
    private readonly double lowerNorm;
    private readonly double upperNorm;
    private readonly double lowerMargin;
    private readonly double upperMargin;
    private readonly double lambdaG;

    public MagFaceHead(int classCount, int embeddingSize, HeadSettings options) : base(nameof(MagFaceHead), classCount, embeddingSize)
    {
        scale = options.Scale;
        lowerNorm = options.KappaMin;
        upperNorm = options.KappaMax;
        lowerMargin = options.MagFaceMarginMin;
        upperMargin = options.MagFaceMarginMax;
        lambdaG = options.NormRegularisationWeight;
        RegisterComponents();
    }

    /// <summary>m(a) for norms [B, 1] (differentiable: MagFace lets the margin pull on the norm).</summary>
    public Tensor Margin(Tensor norms)
        => (norms.clamp(lowerNorm, upperNorm) - lowerNorm) * ((upperMargin - lowerMargin) / (upperNorm - lowerNorm)) + lowerMargin;

    public override Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows)
    {
        using var scope = NewDisposeScope();
        var cos = cosines!;
        var target = AddAngularMargin(TargetCosines(cos, labels), Margin(norms));
        return (WithTargets(cos, labels, target) * scale).MoveToOuterDisposeScope();
    }

    public override Tensor? LogitScale(Tensor norms) => tensor(scale, norms.dtype, norms.device);

    public override IReadOnlyList<(string Name, Tensor Value)> ExtraLosses(Tensor norms, Tensor targetCosines)
    {
        if (lambdaG == 0)
            return Array.Empty<(string, Tensor)>();
        return new[] { ("magface_g", Regulariser(norms, lowerNorm, upperNorm, lambdaG)) };
    }

    /// <summary>
    /// MagFace's regulariser weight * mean(g(a)), g(a) = a / u_a^2 + 1 / a on a = clamp(norms, l_a, u_a): minimal at a = u_a.
    /// The LH2Face head's norm regulariser is the same term on its own kappa range.
    /// </summary>
    public static Tensor Regulariser(Tensor norms, double lower, double upper, double weight)
    {
        using var scope = NewDisposeScope();
        var a = norms.clamp(lower, upper);
        var g = (a / (upper * upper) + a.reciprocal()).mean() * weight;
        return g.MoveToOuterDisposeScope();
    }
}

using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// AdaFace (Kim et al., CVPR 2022): s * (cos(theta + g_angle) - g_add) at the target, s * cos elsewhere, with the margins
/// driven by the batch-normalised feature norm (see <see cref="MarginHead.AdaFaceTargetCosines"/>). The norm statistics are
/// running averages of the batch mean and standard deviation of the norm clamped to [0.001, 100] (initial 20 and 100,
/// momentum t_alpha), kept as buffers so they are saved with the weights.
/// </summary>
internal sealed class AdaFaceHead : MarginHead
{
    /// <summary>"AdaFace(s, m, h, t_alpha)": the description in logs, checkpoint fingerprints and the ONNX metadata.</summary>
    public static string Describe(HeadSettings o)
        => $"AdaFace(s={LossConfiguration.F(o.Scale)}, m={LossConfiguration.F(o.AdaFaceMargin)}, h={LossConfiguration.F(o.AdaFaceH)}, t_alpha={LossConfiguration.F(o.NormMomentum)})";

    /// <summary>AdaFace clamps norms to this range before taking statistics.</summary>
    private const double SafeNormMin = 1e-3, SafeNormMax = 100;

    private readonly Tensor batch_mean;
    private readonly Tensor batch_std;
    private readonly double scale;
    private readonly double margin;
    private readonly double h;
    private readonly double momentum;

    public AdaFaceHead(int classCount, int embeddingSize, HeadSettings options) : base(nameof(AdaFaceHead), classCount, embeddingSize)
    {
        scale = options.Scale;
        margin = options.AdaFaceMargin;
        h = options.AdaFaceH;
        momentum = options.NormMomentum;
        batch_mean = tensor(20f);
        batch_std = tensor(100f);
        RegisterComponents();
    }

    /// <summary>The running mean of the clamped norm.</summary>
    public float BatchMean => batch_mean.item<float>();

    /// <summary>The running standard deviation of the clamped norm.</summary>
    public float BatchStd => batch_std.item<float>();

    public override Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows)
    {
        using var scope = NewDisposeScope();
        var cos = cosines!.clamp(-1 + AcosEpsilon, 1 - AcosEpsilon);
        var safeNorms = norms.clamp(SafeNormMin, SafeNormMax);
        if (training)
            UpdateNormStatistics(safeNorms, batch_mean, batch_std, momentum);
        var scaler = NormScaler(safeNorms, batch_mean, batch_std, h);
        var target = AdaFaceTargetCosines(TargetCosines(cos, labels), scaler, margin);
        return (WithTargets(cos, labels, target) * scale).MoveToOuterDisposeScope();
    }

    public override Tensor? LogitScale(Tensor norms) => tensor(scale, norms.dtype, norms.device);
}

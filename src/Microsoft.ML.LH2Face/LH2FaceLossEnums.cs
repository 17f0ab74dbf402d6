namespace Microsoft.ML.LH2Face;

/// <summary>The classification head that turns embeddings and feature norms into logits.</summary>
public enum LH2FaceHead
{
    /// <summary>LH2Face L_vMF: logit = kappa' * cos, target logit minus the Uncertainty-Aware Margin (METHOD.md sections 1-2).</summary>
    LH2Face,

    /// <summary>ArcFace (Deng et al., CVPR 2019): s * cos(theta + m) for the target class.</summary>
    ArcFace,

    /// <summary>CosFace (Wang et al., CVPR 2018): s * (cos - m) for the target class.</summary>
    CosFace,

    /// <summary>Plain softmax over z W^T: unnormalised features and proxies, no bias, no margin.</summary>
    Softmax,

    /// <summary>AdaFace (Kim et al., CVPR 2022): s * (cos(theta + g_angle) - g_add), margins driven by the batch-normalised feature norm.</summary>
    AdaFace,

    /// <summary>MagFace (Meng et al., CVPR 2021): s * cos(theta + m(a)) with a margin rising with the clamped norm a, plus the regulariser g(a).</summary>
    MagFace,
}

/// <summary>The Uncertainty-Aware Margin function M_i of the LH2Face head (METHOD.md section 2).</summary>
public enum LH2FaceMarginFunction
{
    /// <summary>M_i = MarginCoefficient (0.35) * mu_kappa in logit space (equals CosFace m = 0.35 when kappa = mu_kappa): METHOD.md read literally, preset LH2FaceLiteral.</summary>
    Literal,

    /// <summary>M_i = kappa_i' * 0.35 * clamp(kappa_i / mu_kappa, 0, 2): confident (high-norm) samples get a larger cosine margin.</summary>
    QualityScaled,

    /// <summary>
    /// AdaFace's margins in the vMF logit: target kappa_i' * (cos(theta + g_angle) - g_add), g_angle = -m z_i, g_add = m z_i + m,
    /// z_i = clip(h (kappa_i - mu_kappa) / (sigma_kappa + 1e-3), -1, 1) with m = MarginCoefficient and h = AdaFaceH.
    /// </summary>
    AdaFace,

    /// <summary>
    /// An additive angular margin that grows with certainty: target kappa_i' * cos(theta_i + m_i), m_i = MarginCoefficient *
    /// clamp(||z_i|| / mu_kappa, 0, 2) radians (detached). A confident (high-norm) sample is pushed harder, an uncertain one less.
    /// </summary>
    QualityAngular,

    /// <summary>A constant additive angular margin: target kappa_i' * cos(theta_i + m), m = MarginCoefficient radians (ArcFace's form at the vMF scale).</summary>
    Angular,
}

/// <summary>How the LH2Face head turns the concentration kappa = ||z|| into the logit scale of sample i.</summary>
public enum LH2FaceKappaScale
{
    /// <summary>kappa_i' = clamp(||z_i||, KappaMin, KappaMax): the vMF log-density read literally (METHOD.md section 2).</summary>
    Raw,

    /// <summary>
    /// kappa_i' = Scale * ||z_i|| / mu_kappa, clamped to [KappaMin, KappaMax]: the concentration relative to its running mean,
    /// at the logit scale of ArcFace and CosFace (64) on average; the Literal margin is then MarginCoefficient * Scale.
    /// </summary>
    Relative,

    /// <summary>kappa_i' = Scale for every sample: no concentration in the logits (the ablation "kappa -> fixed scale").</summary>
    Fixed,

    /// <summary>
    /// kappa_i' = sqrt(EmbeddingSize) for every sample: the concentration at its expected value, since insightface's final
    /// BatchNorm (scale frozen at 1) gives every dimension of z unit variance, so ||z|| is about sqrt(d). The default: chosen on
    /// the validation split at 112 px / 512-d (README "Loss study"); kappa then carries quality through the kappa ranking and
    /// the Quality output rather than through the logit scale.
    /// </summary>
    SqrtDimension,
}

/// <summary>The last layer of the IResNet backbones, the batch norm of the embedding z (insightface's "features").</summary>
public enum LH2FaceEmbeddingNorm
{
    /// <summary>BatchNorm1d with its scale frozen at 1 (insightface arcface_torch): every dimension of z has unit variance over the batch.</summary>
    FrozenScale,

    /// <summary>BatchNorm1d with a trainable scale: the norm of z can grow or shrink with training.</summary>
    TrainableScale,

    /// <summary>No batch norm: z is the FC output, its norm free.</summary>
    None,
}

/// <summary>How the LH2Face head keeps the feature norm kappa from growing without bound.</summary>
public enum LH2FaceNormControl
{
    /// <summary>Adds lambda_g * (kappa / KappaMax^2 + 1 / kappa), MagFace's regulariser g. The default.</summary>
    Regulariser,

    /// <summary>Uses kappa as the logit scale without a gradient through it.</summary>
    Detach,

    /// <summary>
    /// Adds VmfNllWeight * mean_i(-log C_n(kappa_i) - kappa_i cos_iy) (cosine detached), the vMF negative log-likelihood of the
    /// sample under its class: its gradient A_n(kappa) - cos_iy pulls kappa to the concentration that fits the alignment, so the
    /// norm becomes a calibrated uncertainty.
    /// </summary>
    VmfNll,
}

/// <summary>A named set of loss options (head, margins, terms) for <see cref="LH2FaceTrainer.Options.ApplyPreset"/>.</summary>
public enum LH2FaceLossPreset
{
    /// <summary>
    /// The LH2Face defaults, chosen on validation splits of SynthFace's training identities (README "Loss study"): L_vMF at
    /// the logit scale sqrt(EmbeddingSize) for every sample (KappaScale = SqrtDimension), a constant angular margin 0.5
    /// (MarginFunction = Angular), MagFace's norm regulariser and the kappa ranking, so that kappa = ||z|| (the Quality
    /// output) ranks image quality; the proxy losses off. METHOD.md read literally is <see cref="LH2FaceLiteral"/>.
    /// </summary>
    LH2Face,

    /// <summary>ArcFace s = 64, m = 0.5 alone (no proxy losses).</summary>
    ArcFace,

    /// <summary>CosFace s = 64, m = 0.35 alone.</summary>
    CosFace,

    /// <summary>AdaFace s = 64, m = 0.4, h = 0.333, t_alpha = 0.01 alone.</summary>
    AdaFace,

    /// <summary>MagFace s = 64, l_a = 10, u_a = 110, l_m = 0.45, u_m = 0.8, lambda_g = 35 alone.</summary>
    MagFace,

    /// <summary>Plain softmax alone.</summary>
    Softmax,

    /// <summary>
    /// METHOD.md read literally, the LH2Face default before the loss study: L_vMF with the Literal margin 0.35 mu_kappa, MagFace's
    /// norm regulariser and the three proxy losses at weight 1, no kappa ranking.
    /// </summary>
    LH2FaceLiteral,
}

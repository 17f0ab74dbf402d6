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
}

/// <summary>The Uncertainty-Aware Margin function M_i of the LH2Face head (METHOD.md section 2).</summary>
public enum LH2FaceMarginFunction
{
    /// <summary>M_i = 0.35 * mu_kappa in logit space (equals CosFace m = 0.35 when kappa = mu_kappa). The default.</summary>
    Literal,

    /// <summary>M_i = kappa_i' * 0.35 * clamp(kappa_i / mu_kappa, 0, 2): confident (high-norm) samples get a larger cosine margin.</summary>
    QualityScaled,
}

/// <summary>How the LH2Face head keeps the feature norm kappa from growing without bound.</summary>
public enum LH2FaceNormControl
{
    /// <summary>Adds lambda_g * (kappa / KappaMax^2 + 1 / kappa), MagFace's regulariser g. The default.</summary>
    Regulariser,

    /// <summary>Uses kappa as the logit scale without a gradient through it.</summary>
    Detach,
}

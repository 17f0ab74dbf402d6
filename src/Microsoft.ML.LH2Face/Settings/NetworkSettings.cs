using static Microsoft.ML.LH2Face.OptionChecks;
using O = Microsoft.ML.LH2Face.LH2FaceTrainer.Options;

namespace Microsoft.ML.LH2Face.Settings;

/// <summary>What the network is built from: the backbone, the margin head and, when on, the renderer.</summary>
internal sealed record NetworkSettings(BackboneSettings Backbone, HeadSettings Head, RendererTrainingSettings? Renderer);

/// <summary>The backbone: architecture, input side in pixels, embedding size, dropout before the embedding layer, the final BatchNorm's scale.</summary>
internal sealed record BackboneSettings(LH2FaceBackbone Kind, int InputSize, int EmbeddingSize, float DropoutRate, LH2FaceEmbeddingNorm EmbeddingNorm)
{
    public void Check()
    {
        Require(InputSize is >= 16 and <= 1024, nameof(O.InputSize), $"is {InputSize}; use 16..1024 (112 for insightface crops)");
        Require(EmbeddingSize is >= 2 and <= 8192, nameof(O.EmbeddingSize), $"is {EmbeddingSize}; use 2..8192 (512 is usual)");
        Require(DropoutRate is >= 0 and < 1, nameof(O.DropoutRate), $"is {DropoutRate}; use 0 <= rate < 1");
        Require(Enum.IsDefined(Kind), nameof(O.Backbone), $"'{Kind}' is unknown");
    }
}

/// <summary>
/// The margin head and the hyperparameters the heads read (each head takes the ones it needs: see <see cref="Losses.HeadFactory"/>).
/// <see cref="EmbeddingSize"/> is the model's, for descriptions; a head's tensors are sized by the embedding size it is built with.
/// </summary>
internal sealed record HeadSettings(
    LH2FaceHead Kind, int EmbeddingSize, float Scale, float ArcFaceMargin, float CosFaceMargin,
    LH2FaceKappaScale KappaScale, LH2FaceMarginFunction MarginFunction, float MarginCoefficient, float KappaMin, float KappaMax,
    float NormMomentum, float InitialMeanNorm, bool HardNegativeEmphasis, LH2FaceNormControl NormControl,
    float NormRegularisationWeight, float VmfNllWeight, int VmfDimension, float AdaFaceMargin, float AdaFaceH,
    float MagFaceMarginMin, float MagFaceMarginMax)
{
    /// <summary>n of log C_n: VmfDimension, or the embedding size when it is 0.</summary>
    public int VmfDimensionFor(int embeddingSize) => VmfDimension > 0 ? VmfDimension : embeddingSize;

    public void Check()
    {
        Require(Scale > 0, nameof(O.Scale), $"is {Scale}; use a positive logit scale (64 in ArcFace and CosFace)");
        Require(KappaMin > 0 && KappaMax > KappaMin, nameof(O.KappaMax), $"KappaMin = {KappaMin}, KappaMax = {KappaMax}; need 0 < KappaMin < KappaMax");
        Require(NormMomentum is > 0 and <= 1, nameof(O.NormMomentum), $"is {NormMomentum}; use 0 < momentum <= 1");
        Require(Enum.IsDefined(Kind), nameof(O.Head), $"'{Kind}' is unknown");
    }

    /// <summary>The head options that only matter to some heads (checked whatever the head, as before: a preset switch must not meet a bad value later).</summary>
    public void CheckLossForms()
    {
        Require(Enum.IsDefined(KappaScale), nameof(O.KappaScale), $"'{KappaScale}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceKappaScale>())}");
        Require(Enum.IsDefined(MarginFunction), nameof(O.MarginFunction), $"'{MarginFunction}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceMarginFunction>())}");
        Require(Enum.IsDefined(NormControl), nameof(O.NormControl), $"'{NormControl}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceNormControl>())}");
        Require(MarginCoefficient >= 0 && float.IsFinite(MarginCoefficient), nameof(O.MarginCoefficient), $"is {MarginCoefficient}; use 0 or more (0.5 by default; 0.35 in LH2FaceLiteral)");
        Require(ArcFaceMargin is >= 0 and < MathF.PI, nameof(O.ArcFaceMargin), $"is {ArcFaceMargin}; use 0 <= m < pi (0.5 in ArcFace)");
        Require(CosFaceMargin is >= 0 and <= 2, nameof(O.CosFaceMargin), $"is {CosFaceMargin}; use 0 <= m <= 2 (0.35 or 0.4 in CosFace)");
        Require(AdaFaceMargin is >= 0 and < MathF.PI, nameof(O.AdaFaceMargin), $"is {AdaFaceMargin}; use 0 <= m < pi (0.4 in AdaFace)");
        Require(AdaFaceH is >= 0 and <= 10, nameof(O.AdaFaceH), $"is {AdaFaceH}; use 0 <= h <= 10 (0.333 in AdaFace)");
        Require(MagFaceMarginMin >= 0 && MagFaceMarginMax >= MagFaceMarginMin && MagFaceMarginMax < MathF.PI, nameof(O.MagFaceMarginMax),
            $"MagFaceMarginMin = {MagFaceMarginMin}, MagFaceMarginMax = {MagFaceMarginMax}; need 0 <= min <= max < pi (MagFace: 0.45, 0.8)");
        Require(InitialMeanNorm > 0 && float.IsFinite(InitialMeanNorm), nameof(O.InitialMeanNorm), $"is {InitialMeanNorm}; use a positive norm (20 in METHOD.md)");
        Require(NormRegularisationWeight >= 0 && float.IsFinite(NormRegularisationWeight), nameof(O.NormRegularisationWeight), $"is {NormRegularisationWeight}; use 0 (off) or a positive weight (35 in MagFace)");
        Require(VmfNllWeight >= 0 && float.IsFinite(VmfNllWeight), nameof(O.VmfNllWeight), $"is {VmfNllWeight}; use 0 (off) or a positive weight");
    }
}

/// <summary>
/// The renderer (METHOD.md section 4): its network's shape (resolution, warp iterations, field of view, depth prior), its
/// own Adam rate, and the weights of its loss terms.
/// </summary>
internal sealed record RendererTrainingSettings(
    int Resolution, int WarpIterations, float FieldOfView, float DepthPrior, float LearningRate,
    float ReconstructionWeight, float FlipReconstructionWeight, float ReconstructionGradientWeight,
    float CanonicalRecognitionWeight, float ViewConsistencyWeight, bool CanonicalLossesTrainRenderer)
{
    public void Check(int inputSize)
    {
        Require(Resolution >= 16 && Resolution % 16 == 0 && Resolution <= inputSize, nameof(O.RendererResolution),
            $"is {Resolution}; use a multiple of 16 from 16 to InputSize ({inputSize}), e.g. 64");
        Require(ReconstructionWeight >= 0 && float.IsFinite(ReconstructionWeight), nameof(O.ReconstructionWeight), $"is {ReconstructionWeight}; use 0 or more (1 is the default)");
        Require(FlipReconstructionWeight >= 0 && float.IsFinite(FlipReconstructionWeight), nameof(O.FlipReconstructionWeight), $"is {FlipReconstructionWeight}; use 0 (no flip) or more");
        Require(ReconstructionGradientWeight >= 0 && float.IsFinite(ReconstructionGradientWeight), nameof(O.ReconstructionGradientWeight), $"is {ReconstructionGradientWeight}; use 0 (off) or more");
        Require(CanonicalRecognitionWeight >= 0 && float.IsFinite(CanonicalRecognitionWeight), nameof(O.CanonicalRecognitionWeight), $"is {CanonicalRecognitionWeight}; use 0 (off) or more");
        Require(ViewConsistencyWeight >= 0 && float.IsFinite(ViewConsistencyWeight), nameof(O.ViewConsistencyWeight), $"is {ViewConsistencyWeight}; use 0 (off) or more");
        Require(ReconstructionWeight + CanonicalRecognitionWeight + ViewConsistencyWeight > 0, nameof(O.UseRenderer),
            "is on but ReconstructionWeight, CanonicalRecognitionWeight and ViewConsistencyWeight are all 0; give one a positive weight or turn UseRenderer off");
        Require(WarpIterations is >= 0 and <= 16, nameof(O.RendererWarpIterations), $"is {WarpIterations}; use 0..16 (3 is the default)");
        Require(FieldOfView is >= 1f and <= 90f, nameof(O.RendererFieldOfView), $"is {FieldOfView}; use an angle in degrees from 1 to 90 (10 is the default)");
        Require(DepthPrior is >= 0f and <= 3f, nameof(O.RendererDepthPrior), $"is {DepthPrior}; use 0 (no prior) to 3 (0.5 is the default)");
        Require(LearningRate > 0 && float.IsFinite(LearningRate), nameof(O.RendererLearningRate), $"is {LearningRate}; use a positive rate such as 3e-3");
    }
}

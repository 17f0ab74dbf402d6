using static Microsoft.ML.LH2Face.OptionChecks;
namespace Microsoft.ML.LH2Face.Losses;

/// <summary>Eager checks of the head and loss options; every message names the option and the fix.</summary>
internal static class LossOptionsValidation
{
    public static void Check(LH2FaceTrainer.Options o)
    {
        Require(Enum.IsDefined(o.KappaScale), nameof(o.KappaScale), $"'{o.KappaScale}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceKappaScale>())}");
        Require(Enum.IsDefined(o.MarginFunction), nameof(o.MarginFunction), $"'{o.MarginFunction}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceMarginFunction>())}");
        Require(Enum.IsDefined(o.NormControl), nameof(o.NormControl), $"'{o.NormControl}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceNormControl>())}");
        Require(o.MarginCoefficient >= 0 && float.IsFinite(o.MarginCoefficient), nameof(o.MarginCoefficient), $"is {o.MarginCoefficient}; use 0 or more (0.5 by default; 0.35 in LH2FaceLiteral)");
        Require(o.ArcFaceMargin is >= 0 and < MathF.PI, nameof(o.ArcFaceMargin), $"is {o.ArcFaceMargin}; use 0 <= m < pi (0.5 in ArcFace)");
        Require(o.CosFaceMargin is >= 0 and <= 2, nameof(o.CosFaceMargin), $"is {o.CosFaceMargin}; use 0 <= m <= 2 (0.35 or 0.4 in CosFace)");
        Require(o.AdaFaceMargin is >= 0 and < MathF.PI, nameof(o.AdaFaceMargin), $"is {o.AdaFaceMargin}; use 0 <= m < pi (0.4 in AdaFace)");
        Require(o.AdaFaceH is >= 0 and <= 10, nameof(o.AdaFaceH), $"is {o.AdaFaceH}; use 0 <= h <= 10 (0.333 in AdaFace)");
        Require(o.MagFaceMarginMin >= 0 && o.MagFaceMarginMax >= o.MagFaceMarginMin && o.MagFaceMarginMax < MathF.PI, nameof(o.MagFaceMarginMax),
            $"MagFaceMarginMin = {o.MagFaceMarginMin}, MagFaceMarginMax = {o.MagFaceMarginMax}; need 0 <= min <= max < pi (MagFace: 0.45, 0.8)");
        Require(o.InitialMeanNorm > 0 && float.IsFinite(o.InitialMeanNorm), nameof(o.InitialMeanNorm), $"is {o.InitialMeanNorm}; use a positive norm (20 in METHOD.md)");
        Require(o.NormRegularisationWeight >= 0 && float.IsFinite(o.NormRegularisationWeight), nameof(o.NormRegularisationWeight), $"is {o.NormRegularisationWeight}; use 0 (off) or a positive weight (35 in MagFace)");
        Require(o.VmfNllWeight >= 0 && float.IsFinite(o.VmfNllWeight), nameof(o.VmfNllWeight), $"is {o.VmfNllWeight}; use 0 (off) or a positive weight");
        Require(o.KappaRankingWeight >= 0 && float.IsFinite(o.KappaRankingWeight), nameof(o.KappaRankingWeight), $"is {o.KappaRankingWeight}; use 0 (off) or a positive weight");
        Require(o.DegradedConsistencyWeight >= 0 && float.IsFinite(o.DegradedConsistencyWeight), nameof(o.DegradedConsistencyWeight), $"is {o.DegradedConsistencyWeight}; use 0 (off) or a positive weight");
        Require(o.KappaRankingShare is > 0 and <= 1, nameof(o.KappaRankingShare), $"is {o.KappaRankingShare}; use a share of the batch in (0, 1] (0.25 by default)");
        Require(o.KappaRankingMargin >= 0 && float.IsFinite(o.KappaRankingMargin), nameof(o.KappaRankingMargin), $"is {o.KappaRankingMargin}; use 0 or a positive log-norm margin (0.5 by default)");
        Require(o.VmfDimension == 0 || o.VmfDimension >= VonMisesFisher.MinDimension, nameof(o.VmfDimension), $"is {o.VmfDimension}; use 0 (the embedding size) or n >= {VonMisesFisher.MinDimension}");
        Require(o.ProxyPositiveSampleWeight >= 0 && float.IsFinite(o.ProxyPositiveSampleWeight), nameof(o.ProxyPositiveSampleWeight), $"is {o.ProxyPositiveSampleWeight}; use 0 (off) or a positive weight");
        Require(o.ProxyNegativeSampleWeight >= 0 && float.IsFinite(o.ProxyNegativeSampleWeight), nameof(o.ProxyNegativeSampleWeight), $"is {o.ProxyNegativeSampleWeight}; use 0 (off) or a positive weight");
        Require(o.ProxyProxyWeight >= 0 && float.IsFinite(o.ProxyProxyWeight), nameof(o.ProxyProxyWeight), $"is {o.ProxyProxyWeight}; use 0 (off) or a positive weight");
        Require(o.ProxyAlpha is > 0 and <= 64, nameof(o.ProxyAlpha), $"is {o.ProxyAlpha}; use 0 < alpha <= 64 (32 in Proxy-Anchor; larger overflows float32)");
        Require(o.ProxyDelta is >= 0 and < 1, nameof(o.ProxyDelta), $"is {o.ProxyDelta}; use 0 <= delta < 1 (0.1 in Proxy-Anchor)");
        Require(o.ProxyLearningRateMultiplier > 0 && float.IsFinite(o.ProxyLearningRateMultiplier), nameof(o.ProxyLearningRateMultiplier), $"is {o.ProxyLearningRateMultiplier}; use a positive factor (1 in insightface, 100 in Proxy-Anchor)");
        Require(o.SampleRate is > 0 and <= 1, nameof(o.SampleRate), $"is {o.SampleRate}; use 0 < rate <= 1 (1 = every identity, 0.1 for Partial FC on very many identities)");
        Require(o.ProxySampleRate is >= 0 and <= 1, nameof(o.ProxySampleRate), $"is {o.ProxySampleRate}; use 0 (automatic: every proxy up to ProxySampleMaxClasses classes, ProxySampleSize of them above) or 0 < rate <= 1 (1 = every proxy)");
        // The proxy sample only matters when a proxy term is on: a loss without them is not checked against it.
        bool proxyTerms = o.ProxyPositiveSampleWeight != 0 || o.ProxyNegativeSampleWeight != 0 || o.ProxyProxyWeight != 0;
        if (proxyTerms && o.ProxySampleRate == ProxySampling.Automatic)
        {
            Require(o.ProxySampleSize > o.BatchSize, nameof(o.ProxySampleSize),
                $"is {o.ProxySampleSize} with BatchSize {o.BatchSize}; use more than the batch size (1024 by default) so the automatic proxy sample has room for classes outside the batch, or set ProxySampleRate");
            Require(o.ProxySampleMaxClasses >= o.ProxySampleSize, nameof(o.ProxySampleMaxClasses),
                $"is {o.ProxySampleMaxClasses} with ProxySampleSize {o.ProxySampleSize}; use at least ProxySampleSize (4096 by default): below it the proxy terms are exact anyway");
        }
    }
}

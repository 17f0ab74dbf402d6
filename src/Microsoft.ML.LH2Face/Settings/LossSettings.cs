using Microsoft.ML.LH2Face.Losses;
using static Microsoft.ML.LH2Face.OptionChecks;
using O = Microsoft.ML.LH2Face.LH2FaceTrainer.Options;

namespace Microsoft.ML.LH2Face.Settings;

/// <summary>The loss: the margin head, the kappa ranking and its consistency term, the proxy terms, and the Partial FC sample rate of the head's classes.</summary>
internal sealed record LossSettings(HeadSettings Head, KappaRankingSettings KappaRanking, ProxySettings Proxies, float SampleRate)
{
    public void Check(int batchSize)
    {
        Head.CheckLossForms();
        KappaRanking.Check();
        Require(Head.VmfDimension == 0 || Head.VmfDimension >= VonMisesFisher.MinDimension, nameof(O.VmfDimension), $"is {Head.VmfDimension}; use 0 (the embedding size) or n >= {VonMisesFisher.MinDimension}");
        Proxies.CheckWeights();
        Require(SampleRate is > 0 and <= 1, nameof(O.SampleRate), $"is {SampleRate}; use 0 < rate <= 1 (1 = every identity, 0.1 for Partial FC on very many identities)");
        Proxies.CheckSample(batchSize);
    }

    /// <summary>The rows L_pns and L_pp take from the <paramref name="headRows"/> proxies the head uses (see <see cref="ProxySampling.Rows(double, int, int, double, long)"/>).</summary>
    public long ProxyRows(long headRows) => ProxySampling.Rows(Proxies.SampleRate, Proxies.SampleMaxClasses, Proxies.SampleSize, SampleRate, headRows);
}

/// <summary>The kappa ranking (weight, share of the batch copied and degraded, log-norm margin, whether it reaches the trunk) and the degraded-consistency weight.</summary>
internal sealed record KappaRankingSettings(float Weight, float Share, float Margin, bool TrainsBackbone, float ConsistencyWeight)
{
    /// <summary>
    /// How many of <paramref name="batchSize"/> images get a degraded copy: share of the batch, at least 2 (0 when both the
    /// ranking and the degraded-consistency term are off).
    /// </summary>
    public int Copies(int batchSize)
        => Weight <= 0 && ConsistencyWeight <= 0 ? 0 : Math.Clamp((int)Math.Round(batchSize * (double)Share), 2, batchSize);

    public void Check()
    {
        Require(Weight >= 0 && float.IsFinite(Weight), nameof(O.KappaRankingWeight), $"is {Weight}; use 0 (off) or a positive weight");
        Require(ConsistencyWeight >= 0 && float.IsFinite(ConsistencyWeight), nameof(O.DegradedConsistencyWeight), $"is {ConsistencyWeight}; use 0 (off) or a positive weight");
        Require(Share is > 0 and <= 1, nameof(O.KappaRankingShare), $"is {Share}; use a share of the batch in (0, 1] (0.25 by default)");
        Require(Margin >= 0 && float.IsFinite(Margin), nameof(O.KappaRankingMargin), $"is {Margin}; use 0 or a positive log-norm margin (0.75 by default)");
    }
}

/// <summary>The proxy terms L_pps, L_pns, L_pp: weights, alpha and delta, the proxies' learning-rate factor, and the sample of proxies L_pns and L_pp see.</summary>
internal sealed record ProxySettings(
    float PositiveSampleWeight, float NegativeSampleWeight, float ProxyProxyWeight, float Alpha, float Delta,
    float LearningRateMultiplier, float SampleRate, int SampleMaxClasses, int SampleSize)
{
    /// <summary>Whether any proxy term is on.</summary>
    public bool AnyOn => PositiveSampleWeight != 0 || NegativeSampleWeight != 0 || ProxyProxyWeight != 0;

    public void CheckWeights()
    {
        Require(PositiveSampleWeight >= 0 && float.IsFinite(PositiveSampleWeight), nameof(O.ProxyPositiveSampleWeight), $"is {PositiveSampleWeight}; use 0 (off) or a positive weight");
        Require(NegativeSampleWeight >= 0 && float.IsFinite(NegativeSampleWeight), nameof(O.ProxyNegativeSampleWeight), $"is {NegativeSampleWeight}; use 0 (off) or a positive weight");
        Require(ProxyProxyWeight >= 0 && float.IsFinite(ProxyProxyWeight), nameof(O.ProxyProxyWeight), $"is {ProxyProxyWeight}; use 0 (off) or a positive weight");
        Require(Alpha is > 0 and <= 64, nameof(O.ProxyAlpha), $"is {Alpha}; use 0 < alpha <= 64 (32 in Proxy-Anchor; larger overflows float32)");
        Require(Delta is >= 0 and < 1, nameof(O.ProxyDelta), $"is {Delta}; use 0 <= delta < 1 (0.1 in Proxy-Anchor)");
        Require(LearningRateMultiplier > 0 && float.IsFinite(LearningRateMultiplier), nameof(O.ProxyLearningRateMultiplier), $"is {LearningRateMultiplier}; use a positive factor (1 in insightface, 100 in Proxy-Anchor)");
    }

    public void CheckSample(int batchSize)
    {
        Require(SampleRate is >= 0 and <= 1, nameof(O.ProxySampleRate), $"is {SampleRate}; use 0 (automatic: every proxy up to ProxySampleMaxClasses classes, ProxySampleSize of them above) or 0 < rate <= 1 (1 = every proxy)");
        // The proxy sample only matters when a proxy term is on: a loss without them is not checked against it.
        if (AnyOn && SampleRate == ProxySampling.Automatic)
        {
            Require(SampleSize > batchSize, nameof(O.ProxySampleSize),
                $"is {SampleSize} with BatchSize {batchSize}; use more than the batch size (1024 by default) so the automatic proxy sample has room for classes outside the batch, or set ProxySampleRate");
            Require(SampleMaxClasses >= SampleSize, nameof(O.ProxySampleMaxClasses),
                $"is {SampleMaxClasses} with ProxySampleSize {SampleSize}; use at least ProxySampleSize (4096 by default): below it the proxy terms are exact anyway");
        }
    }
}

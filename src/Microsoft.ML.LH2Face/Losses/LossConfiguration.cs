using System.Globalization;
using System.Text.Json;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// The effective loss configuration of a set of options: the head with the hyperparameters it reads, and the weight of
/// every term that is on. It goes into the training log, the checkpoint fingerprint and the ONNX metadata (lh2face.loss).
/// </summary>
internal static class LossConfiguration
{
    /// <summary>The head and the settings it reads, e.g. "ArcFace(s=64, m=0.5)" (each head describes itself: <see cref="HeadFactory.Describe"/>).</summary>
    public static string DescribeHead(LH2FaceTrainer.Options o) => HeadFactory.Describe(o);

    /// <summary>The weight of each loss term that is on, by the name the progress reports use.</summary>
    public static IReadOnlyDictionary<string, float> TermWeights(LH2FaceTrainer.Options o)
    {
        var weights = new Dictionary<string, float> { ["cross_entropy"] = 1f };
        foreach (var (term, weight) in HeadFactory.ExtraTermWeights(o))
            weights[term] = weight;
        if (o.KappaRankingWeight != 0)
            weights[KappaRanking.Term] = o.KappaRankingWeight;
        if (o.DegradedConsistencyWeight != 0)
            weights[KappaRanking.ConsistencyTerm] = o.DegradedConsistencyWeight;
        if (o.ProxyPositiveSampleWeight != 0)
            weights["proxy_pps"] = o.ProxyPositiveSampleWeight;
        if (o.ProxyNegativeSampleWeight != 0)
            weights["proxy_pns"] = o.ProxyNegativeSampleWeight;
        if (o.ProxyProxyWeight != 0)
            weights["proxy_pp"] = o.ProxyProxyWeight;
        return weights;
    }

    /// <summary>
    /// The whole configuration as one line of JSON; with the class count, the effective proxy sample of L_pns and L_pp too
    /// (how many proxies they see of how many, and whether the sampled ones are inverse-probability weighted).
    /// </summary>
    public static string ToJson(LH2FaceTrainer.Options o, long? classCount = null)
    {
        var value = new Dictionary<string, object>
        {
            ["head"] = DescribeHead(o),
            ["terms"] = TermWeights(o),
            ["sample_rate"] = o.SampleRate,
            ["proxy_lr_multiplier"] = o.ProxyLearningRateMultiplier,
        };
        // Only when changed, so that the default configuration's JSON (and the metadata of models saved before) stays as it was.
        if (o.KappaRankingWeight != 0 && !o.KappaRankingTrainsBackbone)
            value["kappa_ranking_trains_backbone"] = false;
        if (o.ProxyPositiveSampleWeight != 0 || o.ProxyNegativeSampleWeight != 0 || o.ProxyProxyWeight != 0)
        {
            value["proxy_sampling"] = ProxySamplingJson(o, classCount);
            value["proxy_alpha"] = o.ProxyAlpha;
            value["proxy_delta"] = o.ProxyDelta;
        }
        return JsonSerializer.Serialize(value);
    }

    private static Dictionary<string, object> ProxySamplingJson(LH2FaceTrainer.Options o, long? classCount)
    {
        var sampling = new Dictionary<string, object>();
        if (o.ProxySampleRate == ProxySampling.Automatic)
        {
            sampling["rule"] = "auto";
            sampling["max_classes"] = o.ProxySampleMaxClasses;
            sampling["size"] = o.ProxySampleSize;
        }
        else
        {
            sampling["rule"] = "rate";
            sampling["rate"] = o.ProxySampleRate;
        }
        if (classCount is long classes)
        {
            // At least these rows: a batch with more distinct classes than this keeps all of them.
            long rows = ProxySampling.Rows(o, PartialFcSampler.RowCount(o.SampleRate, classes));
            sampling["classes"] = classes;
            sampling["rows"] = rows;
            sampling["estimate"] = rows >= classes ? "exact" : "batch proxies weight 1, others 1 / inclusion probability";
        }
        return sampling;
    }

    /// <summary>n of log C_n: the option, or the embedding size when it is 0.</summary>
    public static int VmfDimension(LH2FaceTrainer.Options o) => o.VmfDimension > 0 ? o.VmfDimension : o.EmbeddingSize;

    /// <summary>A float as the descriptions write it (invariant culture, shortest round trip).</summary>
    internal static string F(float value) => value.ToString(CultureInfo.InvariantCulture);
}

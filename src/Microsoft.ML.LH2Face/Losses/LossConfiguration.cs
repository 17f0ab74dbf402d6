using System.Globalization;
using System.Text.Json;
using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// The effective loss configuration of a set of options: the head with the hyperparameters it reads, and the weight of
/// every term that is on. It goes into the training log, the checkpoint fingerprint and the ONNX metadata (lh2face.loss).
/// </summary>
internal static class LossConfiguration
{
    /// <summary>The head and the settings it reads, e.g. "ArcFace(s=64, m=0.5)" (each head describes itself: <see cref="HeadFactory.Describe"/>).</summary>
    public static string DescribeHead(LossSettings loss) => HeadFactory.Describe(loss.Head);

    /// <summary>The weight of each loss term that is on, by the name the progress reports use.</summary>
    public static IReadOnlyDictionary<string, float> TermWeights(LossSettings loss)
    {
        var weights = new Dictionary<string, float> { ["cross_entropy"] = 1f };
        foreach (var (term, weight) in HeadFactory.ExtraTermWeights(loss.Head))
            weights[term] = weight;
        if (loss.KappaRanking.Weight != 0)
            weights[KappaRanking.Term] = loss.KappaRanking.Weight;
        if (loss.KappaRanking.ConsistencyWeight != 0)
            weights[KappaRanking.ConsistencyTerm] = loss.KappaRanking.ConsistencyWeight;
        if (loss.Proxies.PositiveSampleWeight != 0)
            weights["proxy_pps"] = loss.Proxies.PositiveSampleWeight;
        if (loss.Proxies.NegativeSampleWeight != 0)
            weights["proxy_pns"] = loss.Proxies.NegativeSampleWeight;
        if (loss.Proxies.ProxyProxyWeight != 0)
            weights["proxy_pp"] = loss.Proxies.ProxyProxyWeight;
        return weights;
    }

    /// <summary>
    /// The whole configuration as one line of JSON; with the class count, the effective proxy sample of L_pns and L_pp too
    /// (how many proxies they see of how many, and whether the sampled ones are inverse-probability weighted).
    /// </summary>
    public static string ToJson(LossSettings loss, long? classCount = null)
    {
        var value = new Dictionary<string, object>
        {
            ["head"] = DescribeHead(loss),
            ["terms"] = TermWeights(loss),
            ["sample_rate"] = loss.SampleRate,
            ["proxy_lr_multiplier"] = loss.Proxies.LearningRateMultiplier,
        };
        // The kappa ranking's share and margin with the ranking on (the margin's default changed in the loss study's fifth
        // round); whether it trains the trunk only when changed from the default.
        if (loss.KappaRanking.Weight != 0)
        {
            value["kappa_ranking_share"] = loss.KappaRanking.Share;
            value["kappa_ranking_margin"] = loss.KappaRanking.Margin;
            if (!loss.KappaRanking.TrainsBackbone)
                value["kappa_ranking_trains_backbone"] = false;
        }
        if (loss.Proxies.AnyOn)
        {
            value["proxy_sampling"] = ProxySamplingJson(loss, classCount);
            value["proxy_alpha"] = loss.Proxies.Alpha;
            value["proxy_delta"] = loss.Proxies.Delta;
        }
        return JsonSerializer.Serialize(value);
    }

    private static Dictionary<string, object> ProxySamplingJson(LossSettings loss, long? classCount)
    {
        var sampling = new Dictionary<string, object>();
        if (loss.Proxies.SampleRate == ProxySampling.Automatic)
        {
            sampling["rule"] = "auto";
            sampling["max_classes"] = loss.Proxies.SampleMaxClasses;
            sampling["size"] = loss.Proxies.SampleSize;
        }
        else
        {
            sampling["rule"] = "rate";
            sampling["rate"] = loss.Proxies.SampleRate;
        }
        if (classCount is long classes)
        {
            // At least these rows: a batch with more distinct classes than this keeps all of them.
            long rows = loss.ProxyRows(PartialFcSampler.RowCount(loss.SampleRate, classes));
            sampling["classes"] = classes;
            sampling["rows"] = rows;
            sampling["estimate"] = rows >= classes ? "exact" : "batch proxies weight 1, others 1 / inclusion probability";
        }
        return sampling;
    }

    /// <summary>A float as the descriptions write it (invariant culture, shortest round trip).</summary>
    internal static string F(float value) => value.ToString(CultureInfo.InvariantCulture);
}

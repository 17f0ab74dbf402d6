using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face;

namespace LH2Face.Benchmarks.Comparison;

/// <summary>What one training run of a comparison leaves: its scores of every pair and its Quality of every scored image.</summary>
internal sealed class ComparisonRunResult
{
    public string Variant { get; set; } = "";

    public string Spec { get; set; } = "";

    public int Seed { get; set; }

    public string Fingerprint { get; set; } = "";

    public double TrainSeconds { get; set; }

    public float[] EpochLosses { get; set; } = [];

    /// <summary>Mean feature norm (kappa) over the last epoch's steps.</summary>
    public double LastEpochMeanKappa { get; set; }

    /// <summary>Mean margin in logit units over the last epoch's steps (NaN for a head without one).</summary>
    public double LastEpochMeanMargin { get; set; }

    /// <summary>Cosine score of each pair, in protocol order.</summary>
    public float[] Scores { get; set; } = [];

    /// <summary>The Quality column (kappa) of each scored image, in <see cref="ComparisonData.Images"/> order.</summary>
    public float[] Qualities { get; set; } = [];

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    public static ComparisonRunResult? TryLoad(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ComparisonRunResult>(File.ReadAllText(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The child process of the compare command: trains one variant with one seed and scores the protocol.</summary>
internal static class ComparisonRun
{
    private sealed class LastEpoch : IProgress<LH2FaceProgress>
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly string name;
        private int epoch = -1;
        private readonly List<double> kappa = [];
        private readonly List<double> margin = [];

        public LastEpoch(string name) => this.name = name;

        public double MeanKappa => kappa.Count == 0 ? double.NaN : kappa.Average();

        public double MeanMargin => margin.Count == 0 ? double.NaN : margin.Average();

        public void Report(LH2FaceProgress value)
        {
            if (value.Epoch != epoch)
            {
                epoch = value.Epoch;
                kappa.Clear();
                margin.Clear();
            }
            kappa.Add(value.MeanKappa);
            if (value.MeanMargin is { } m)
                margin.Add(m);
            if (value.Step % 50 == 0 || value.Step == value.TotalSteps)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  [{name}] step {value.Step}/{value.TotalSteps} loss {value.Loss:F3} kappa {value.MeanKappa:F1} {value.ImagesPerSecond:F0} img/s, {clock.Elapsed.TotalMinutes:F1} min"));
        }
    }

    /// <summary>compare-run plan.json variantIndex seed result.json</summary>
    public static int Run(ReadOnlySpan<string> args)
    {
        if (args.Length != 4)
        {
            Console.Error.WriteLine("usage: LH2Face.Benchmarks compare-run <plan.json> <variant index> <seed> <result.json> (started by compare)");
            return 2;
        }
        var plan = ComparisonPlan.Load(args[0]);
        var variant = plan.ParsedVariants()[int.Parse(args[1], CultureInfo.InvariantCulture)];
        int seed = int.Parse(args[2], CultureInfo.InvariantCulture);
        TorchSharp.torch.set_num_threads(plan.Threads);
        var data = ComparisonData.Create(plan);
        var ml = new MLContext(seed: 1);
        var options = plan.Options(variant, seed);
        var progress = new LastEpoch($"{variant.Name} seed {seed}");
        options.Progress = progress;
        var train = data.TrainData(ml, options.InputSize);
        var clock = Stopwatch.StartNew();
        using var model = ml.Transforms.LH2Face(options).Fit(train);
        double seconds = clock.Elapsed.TotalSeconds;
        var scored = model.Transform(data.ScoreData(ml, options.InputSize));
        var embeddings = scored.GetColumn<VBuffer<float>>(model.EmbeddingColumnName).Select(v => v.DenseValues().ToArray()).ToArray();
        var qualities = scored.GetColumn<VBuffer<float>>(model.QualityColumnName).Select(v => v.GetItemOrDefault(0)).ToArray();
        new ComparisonRunResult
        {
            Variant = variant.Name,
            Spec = variant.Spec,
            Seed = seed,
            Fingerprint = plan.Fingerprint(),
            TrainSeconds = seconds,
            EpochLosses = model.TrainingSummary.EpochLosses.ToArray(),
            LastEpochMeanKappa = progress.MeanKappa,
            LastEpochMeanMargin = progress.MeanMargin,
            Scores = data.Scores(embeddings),
            Qualities = qualities,
        }.Save(args[3]);
        return 0;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.LH2Face;

namespace LH2Face.Benchmarks.Comparison;

/// <summary>One loss (or option set) to compare: a preset plus option overrides, under a name.</summary>
/// <param name="Name">Name in the tables and plots.</param>
/// <param name="Preset">The loss preset applied after the common settings.</param>
/// <param name="Overrides">Options set after the preset (name, text value, as <see cref="LH2FaceTrainer.Options.Set"/> takes them).</param>
internal sealed record ComparisonVariant(string Name, LH2FaceLossPreset Preset, IReadOnlyList<KeyValuePair<string, string>> Overrides)
{
    /// <summary>
    /// Parses "Name=Preset;Option=value;..." or "Preset" (named after the preset), e.g.
    /// "LH2Face-m0.5=LH2Face;MarginCoefficient=0.5".
    /// </summary>
    public static ComparisonVariant Parse(string spec)
    {
        var parts = spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
            throw new ArgumentException("An empty --variant: write Name=Preset;Option=value;... or a preset name.");
        string head = parts[0];
        string name = head, presetText = head;
        int eq = head.IndexOf('=');
        if (eq > 0)
        {
            name = head[..eq].Trim();
            presetText = head[(eq + 1)..].Trim();
        }
        if (!Enum.TryParse<LH2FaceLossPreset>(presetText, ignoreCase: true, out var preset) || !Enum.IsDefined(preset))
            throw new ArgumentException($"--variant '{spec}': '{presetText}' is not a loss preset; use one of {string.Join(", ", Enum.GetNames<LH2FaceLossPreset>())}.");
        var overrides = new List<KeyValuePair<string, string>>();
        foreach (var part in parts.Skip(1))
        {
            int k = part.IndexOf('=');
            if (k <= 0)
                throw new ArgumentException($"--variant '{spec}': '{part}' is not Option=value.");
            overrides.Add(KeyValuePair.Create(part[..k].Trim(), part[(k + 1)..].Trim()));
        }
        var variant = new ComparisonVariant(name, preset, overrides);
        variant.Apply(new LH2FaceTrainer.Options()); // fails now, naming the option, rather than in a child run
        return variant;
    }

    /// <summary>The spec text this variant parses from.</summary>
    public string Spec => $"{Name}={Preset}" + string.Concat(Overrides.Select(o => $";{o.Key}={o.Value}"));

    /// <summary>Applies the preset, then the overrides.</summary>
    public LH2FaceTrainer.Options Apply(LH2FaceTrainer.Options options)
    {
        options.ApplyPreset(Preset);
        foreach (var (key, value) in Overrides)
            options.Set(key, value);
        return options;
    }

    /// <summary>A file-system name for the variant's run files.</summary>
    public string FileName => string.Concat(Name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_'));
}

/// <summary>
/// Everything a comparison trains and scores: the variants, training seeds, common budget settings and
/// the SynthFace protocol. Written as plan.json in the output folder; each child run reads it, and run
/// files carry its fingerprint so a rerun with the same plan reuses them.
/// </summary>
internal sealed class ComparisonPlan
{
    public List<string> Variants { get; set; } = ["ArcFace", "CosFace", "AdaFace", "MagFace", "LH2Face"];

    public string Baseline { get; set; } = "ArcFace";

    public List<int> Seeds { get; set; } = [42, 43, 44];

    /// <summary>Settings for every variant (before its preset), as Option=value.</summary>
    public Dictionary<string, string> Common { get; set; } = new()
    {
        ["Backbone"] = "Compact",
        ["InputSize"] = "64",
        ["EmbeddingSize"] = "128",
        ["BatchSize"] = "64",
        ["Epochs"] = "12",
    };

    public int TrainSeed { get; set; } = 1;

    public int TestSeed { get; set; } = 1_000_003;

    public int TrainIdentities { get; set; } = 200;

    /// <summary>"test": train on every training identity, score the test protocol; "validation": hold out the first ValidationIdentities training identities and score pairs among them.</summary>
    public string Split { get; set; } = "test";

    public int ValidationIdentities { get; set; } = 50;

    public int BootstrapReplicates { get; set; } = 1000;

    /// <summary>libtorch threads of each training run.</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Training runs at a time (child processes).</summary>
    public int Jobs { get; set; } = 2;

    /// <summary>Train nothing: report on the runs already in the output folder (the missing ones are listed).</summary>
    public bool ReportOnly { get; set; }

    public bool IsValidation => Split == "validation";

    public IReadOnlyList<ComparisonVariant> ParsedVariants() => Variants.Select(ComparisonVariant.Parse).ToList();

    /// <summary>Options of one run: the common settings, then the variant, then the seed.</summary>
    public LH2FaceTrainer.Options Options(ComparisonVariant variant, int seed)
    {
        var options = new LH2FaceTrainer.Options { Device = LH2FaceDevice.Cpu, ImageColumnName = nameof(PixelRow.Pixels) };
        foreach (var (key, value) in Common)
            options.Set(key, value);
        variant.Apply(options);
        options.Seed = seed;
        return options;
    }

    /// <summary>A hash of what decides a run's result other than its variant and seed.</summary>
    public string Fingerprint()
    {
        var text = string.Join("|", Common.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"))
            + string.Create(CultureInfo.InvariantCulture, $"|train={TrainSeed}|test={TestSeed}|ids={TrainIdentities}|split={Split}|val={ValidationIdentities}|threads={Threads}");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    public void Validate()
    {
        if (Split is not ("test" or "validation"))
            throw new ArgumentException($"--split '{Split}': use test or validation.");
        if (Seeds.Count == 0)
            throw new ArgumentException("--seeds: give at least one training seed.");
        var variants = ParsedVariants();
        if (variants.Select(v => v.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != variants.Count)
            throw new ArgumentException("Two --variant entries have one name: give each its own (Name=Preset;...).");
        if (!variants.Any(v => v.Name == Baseline))
            throw new ArgumentException($"--baseline '{Baseline}' is not one of the variants ({string.Join(", ", variants.Select(v => v.Name))}).");
        var probe = new LH2FaceTrainer.Options();
        foreach (var (key, value) in Common)
            probe.Set(key, value);
        if (Jobs < 1 || Threads < 1)
            throw new ArgumentException("--jobs and --threads must be at least 1.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static ComparisonPlan Load(string path)
        => JsonSerializer.Deserialize<ComparisonPlan>(File.ReadAllText(path)) ?? throw new InvalidDataException($"'{path}' is not a comparison plan.");

    /// <summary>Parses the compare command's options into a plan and the output folder.</summary>
    public static (ComparisonPlan Plan, string Out) Parse(ReadOnlySpan<string> args)
    {
        var plan = new ComparisonPlan();
        string output = "artifacts/compare";
        List<string>? variants = null;
        for (int i = 0; i < args.Length; i += 2)
        {
            if (args[i] == "--report-only")
            {
                plan.ReportOnly = true;
                i--;
                continue;
            }
            if (i + 1 >= args.Length)
                throw new ArgumentException($"Option '{args[i]}' needs a value.");
            string v = args[i + 1];
            int Int() => int.Parse(v, CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--variant": (variants ??= []).Add(v); break;
                case "--variants": (variants ??= []).AddRange(v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--baseline": plan.Baseline = v; break;
                case "--seeds": plan.Seeds = v.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(); break;
                case "--set":
                    int k = v.IndexOf('=');
                    if (k <= 0)
                        throw new ArgumentException($"--set '{v}': write Option=value.");
                    plan.Common[v[..k].Trim()] = v[(k + 1)..].Trim();
                    break;
                case "--epochs": plan.Common["Epochs"] = v; break;
                case "--input-size": plan.Common["InputSize"] = v; break;
                case "--backbone": plan.Common["Backbone"] = v; break;
                case "--embedding-size": plan.Common["EmbeddingSize"] = v; break;
                case "--batch": plan.Common["BatchSize"] = v; break;
                case "--train-seed": plan.TrainSeed = Int(); break;
                case "--test-seed": plan.TestSeed = Int(); break;
                case "--train-identities": plan.TrainIdentities = Int(); break;
                case "--split": plan.Split = v; break;
                case "--validation-identities": plan.ValidationIdentities = Int(); break;
                case "--bootstrap": plan.BootstrapReplicates = Int(); break;
                case "--threads": plan.Threads = Int(); break;
                case "--jobs": plan.Jobs = Int(); break;
                case "--out": output = v; break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'. Run the benchmark tool without arguments for the usage.");
            }
        }
        if (variants is not null)
            plan.Variants = variants;
        plan.Validate();
        return (plan, output);
    }
}

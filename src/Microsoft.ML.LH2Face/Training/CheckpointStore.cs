using System.Text.Json;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>Position and bookkeeping of a run, saved beside the weights and optimiser state.</summary>
internal sealed record CheckpointState
{
    public int FormatVersion { get; init; } = CheckpointStore.FormatVersion;
    public long Step { get; init; }
    public string Fingerprint { get; init; } = "";
    public int Seed { get; init; }
    public double BestValidationAccuracy { get; init; } = double.NaN;
    public int BestEpoch { get; init; } = -1;
    public int EpochsWithoutImprovement { get; init; }
    public List<float> EpochLosses { get; init; } = new();
    public List<double> ValidationAccuracies { get; init; } = new();

    /// <summary>Sum of the step losses so far in the epoch the checkpoint falls in (0 at an epoch's end).</summary>
    public double EpochLossSum { get; init; }

    /// <summary>Steps summed in <see cref="EpochLossSum"/>.</summary>
    public int EpochLossCount { get; init; }

    /// <summary>Running sums of the loss terms, kappa and margin in that epoch.</summary>
    public Losses.EpochTermSums EpochTerms { get; init; } = new();
}

/// <summary>
/// Checkpoints as directories step-NNNNNNNN/ (weights.bin, optimizer.bin, renderer-optimizer.bin with the renderer, state.json, best.bin when a
/// validation set keeps a best epoch) plus a 'latest' file naming the newest. Each checkpoint is written
/// into a temporary directory and renamed into place, and 'latest' is replaced by a move, so a run
/// killed at any moment leaves the previous checkpoint intact.
/// </summary>
internal static class CheckpointStore
{
    public const int FormatVersion = 1;
    public const string WeightsFile = "weights.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string RendererOptimizerFile = "renderer-optimizer.bin";
    public const string StateFile = "state.json";
    public const string BestWeightsFile = "best.bin";
    private const string LatestFile = "latest";
    private const int Keep = 2;

    /// <summary>Writes a checkpoint; <paramref name="writeFiles"/> writes the binary files into the directory it is given.</summary>
    public static string Save(string root, CheckpointState state, Action<string> writeFiles)
    {
        Directory.CreateDirectory(root);
        var name = $"step-{state.Step:D8}";
        var final = Path.Combine(root, name);
        var temp = Path.Combine(root, $".{name}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            writeFiles(temp);
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, JsonOptions));
            if (Directory.Exists(final))
                Directory.Delete(final, recursive: true);
            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            throw;
        }
        var latestTemp = Path.Combine(root, $".{LatestFile}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(latestTemp, name);
        File.Move(latestTemp, Path.Combine(root, LatestFile), overwrite: true);
        foreach (var old in Directory.GetDirectories(root, "step-*").OrderByDescending(d => d, StringComparer.Ordinal).Skip(Keep))
            Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Resolves a checkpoint directory: either a step-* directory or a root holding 'latest'.</summary>
    public static string Resolve(string path)
    {
        if (File.Exists(Path.Combine(path, StateFile)))
            return path;
        var latest = Path.Combine(path, LatestFile);
        if (File.Exists(latest))
        {
            var dir = Path.Combine(path, File.ReadAllText(latest).Trim());
            if (File.Exists(Path.Combine(dir, StateFile)))
                return dir;
        }
        throw new FileNotFoundException(
            $"Options.ResumeFrom = '{path}' is not a checkpoint: expected a directory with '{StateFile}' or a checkpoint root with a '{LatestFile}' file (Options.CheckpointDirectory of an earlier run).", path);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on a binary checkpoint file; a missing, truncated or damaged file (TorchSharp says
    /// "Attempted to read past the end of the stream" or names a tensor) becomes an <see cref="InvalidDataException"/>
    /// naming the file and what to do.
    /// </summary>
    public static void ReadFile(string file, Action<string> read)
    {
        if (!File.Exists(file))
            throw new InvalidDataException($"Checkpoint file '{file}' is missing; the checkpoint is incomplete. Resume from an earlier step-* folder of that checkpoint directory, or train from the start.");
        try
        {
            read(file);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException(
                $"Checkpoint file '{file}' is truncated or damaged ({e.Message.ReplaceLineEndings(" ").TrimEnd('.')}); resume from an earlier step-* folder of that checkpoint directory, or train from the start.", e);
        }
    }

    public static CheckpointState ReadState(string checkpointDir)
    {
        var file = Path.Combine(checkpointDir, StateFile);
        CheckpointState? state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(file), JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"Checkpoint state '{file}' is damaged ({e.Message}); resume from an earlier step-* folder of that checkpoint directory, or train from the start.", e);
        }
        if (state is null)
            throw new InvalidDataException($"Checkpoint state '{file}' is empty; resume from an earlier step-* folder of that checkpoint directory, or train from the start.");
        if (state.FormatVersion != FormatVersion)
            throw new InvalidDataException($"Checkpoint '{file}' has format version {state.FormatVersion}; this library reads version {FormatVersion}.");
        return state;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}

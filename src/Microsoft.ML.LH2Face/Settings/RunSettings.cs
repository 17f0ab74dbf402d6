using static Microsoft.ML.LH2Face.OptionChecks;
using O = Microsoft.ML.LH2Face.LH2FaceTrainer.Options;

namespace Microsoft.ML.LH2Face.Settings;

/// <summary>The columns a trainer reads (label, image) and writes (embedding, quality and, with the renderer, reconstruction and canonical face).</summary>
internal sealed record ColumnSettings(string Label, string Image, string Embedding, string Quality, string Reconstruction, string CanonicalFace)
{
    public void Check(bool withRenderer)
    {
        Require(!string.IsNullOrWhiteSpace(Label), nameof(O.LabelColumnName), "must name the key-typed identity label column");
        Require(!string.IsNullOrWhiteSpace(Image), nameof(O.ImageColumnName), "must name the image column");
        Require(!string.IsNullOrWhiteSpace(Embedding), nameof(O.EmbeddingColumnName), "must name the output embedding column");
        Require(!string.IsNullOrWhiteSpace(Quality), nameof(O.QualityColumnName), "must name the output quality column");
        Require(Embedding != Quality, nameof(O.QualityColumnName), $"must differ from EmbeddingColumnName ('{Embedding}')");
        if (!withRenderer)
            return;
        Require(!string.IsNullOrWhiteSpace(Reconstruction), nameof(O.ReconstructionColumnName), "must name the output reconstruction column");
        Require(!string.IsNullOrWhiteSpace(CanonicalFace), nameof(O.CanonicalFaceColumnName), "must name the output canonical-face column");
        var names = new[] { Embedding, Quality, Reconstruction, CanonicalFace };
        Require(names.Distinct(StringComparer.Ordinal).Count() == names.Length, nameof(O.CanonicalFaceColumnName),
            $"the output columns Embedding '{Embedding}', Quality '{Quality}', Reconstruction '{Reconstruction}' and CanonicalFace '{CanonicalFace}' must have different names");
    }
}

/// <summary>One run's settings outside the model: seed, device, training precision and activation recomputation, flip augmentation, cache cap and data loading, C heap policy, validation and early stopping, checkpoints, progress and cancellation.</summary>
internal sealed record RunSettings(
    int Seed, LH2FaceDevice Device, LH2FacePrecision Precision, bool RecomputeActivations, bool RandomHorizontalFlip, long MaxCacheBytes, LH2FaceDataLoading DataLoading, int LoaderThreads, LH2FaceNativeHeap NativeHeap, IDataView? ValidationSet, int EarlyStoppingPatience,
    string? CheckpointDirectory, int CheckpointEveryNSteps, string? ResumeFrom, IProgress<LH2FaceProgress>? Progress, CancellationToken CancellationToken)
{
    /// <summary>Decoding threads for streamed images: <see cref="LoaderThreads"/>, or half the processors when it is 0.</summary>
    public int DecodingThreads => LoaderThreads > 0 ? LoaderThreads : Math.Max(1, Environment.ProcessorCount / 2);

    public void Check()
    {
        Require(MaxCacheBytes >= 0, nameof(O.MaxCacheBytes), $"is {MaxCacheBytes}; use 0 (always stream) or more bytes");
        Require(Enum.IsDefined(DataLoading), nameof(O.DataLoading), $"'{DataLoading}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceDataLoading>())}");
        Require(LoaderThreads >= 0, nameof(O.LoaderThreads), $"is {LoaderThreads}; use 0 (half the processors) or a thread count");
        Require(Enum.IsDefined(Precision), nameof(O.Precision), $"'{Precision}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FacePrecision>())}");
        Require(Enum.IsDefined(NativeHeap), nameof(O.NativeHeap), $"'{NativeHeap}' is unknown; use one of {string.Join(", ", Enum.GetNames<LH2FaceNativeHeap>())}");
        Require(EarlyStoppingPatience >= 0, nameof(O.EarlyStoppingPatience), $"is {EarlyStoppingPatience}; use 0 (off) or more");
        Require(EarlyStoppingPatience == 0 || ValidationSet is not null, nameof(O.EarlyStoppingPatience), "needs a ValidationSet to measure improvement");
        Require(CheckpointEveryNSteps >= 0, nameof(O.CheckpointEveryNSteps), $"is {CheckpointEveryNSteps}; use 0 (end only) or more");
        Require(CheckpointEveryNSteps == 0 || CheckpointDirectory is not null, nameof(O.CheckpointEveryNSteps), "needs a CheckpointDirectory to write to");
    }
}

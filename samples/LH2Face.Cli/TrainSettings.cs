using Microsoft.ML.LH2Face;

namespace LH2Face.Cli;

/// <summary>Everything <c>lh2face train</c> takes. Defaults are the library's, except the Compact backbone.</summary>
public sealed record TrainSettings
{
    private static readonly LH2FaceTrainer.Options Defaults = new();

    /// <summary>Image folder root/&lt;identity&gt;/*.png|jpg|jpeg, or an insightface RecordIO pack (train.rec or its folder); null: write the SynthFace small train set beside the output.</summary>
    public required string? DataFolder { get; init; }

    /// <summary>ML.NET model zip to write.</summary>
    public required string OutputPath { get; init; }

    /// <summary>Leave out (and count) images that do not decode completely instead of stopping with an error naming the first.</summary>
    public bool SkipCorrupt { get; init; }

    public LH2FaceBackbone Backbone { get; init; } = LH2FaceBackbone.Compact;
    public int InputSize { get; init; } = Defaults.InputSize;
    public int EmbeddingSize { get; init; } = Defaults.EmbeddingSize;
    public int Epochs { get; init; } = Defaults.Epochs;
    public int BatchSize { get; init; } = Defaults.BatchSize;
    public float LearningRate { get; init; } = Defaults.LearningRate;
    /// <summary>The loss preset: LH2Face (the defaults), LH2FaceLiteral, or a baseline (ArcFace, CosFace, AdaFace, MagFace, Softmax).</summary>
    public LH2FaceLossPreset Preset { get; init; } = LH2FaceLossPreset.LH2Face;

    /// <summary>A head to use instead of the preset's (the preset's other loss settings stay); null: the preset's head.</summary>
    public LH2FaceHead? Head { get; init; }
    public LH2FaceDevice Device { get; init; } = Defaults.Device;

    /// <summary>Number format of the backbone's training passes (Float32, or BFloat16 with float32 master weights).</summary>
    public LH2FacePrecision Precision { get; init; } = Defaults.Precision;

    /// <summary>Recompute the trunk's activations in the backward pass instead of keeping them (Options.RecomputeActivations).</summary>
    public bool RecomputeActivations { get; init; } = Defaults.RecomputeActivations;

    /// <summary>What training does to the process's C heap (KeepFreed: several times faster, higher peak memory; Unchanged).</summary>
    public LH2FaceNativeHeap NativeHeap { get; init; } = Defaults.NativeHeap;

    /// <summary>Cache or stream the training images (Options.DataLoading).</summary>
    public LH2FaceDataLoading DataLoading { get; init; } = Defaults.DataLoading;

    /// <summary>Options.MaxCacheBytes in megabytes.</summary>
    public long MaxCacheMegabytes { get; init; } = Defaults.MaxCacheBytes >> 20;

    /// <summary>Threads decoding streamed images (Options.LoaderThreads; 0 = half the processors).</summary>
    public int LoaderThreads { get; init; } = Defaults.LoaderThreads;
    public int Seed { get; init; } = Defaults.Seed;
    public string? CheckpointDirectory { get; init; }
    public int CheckpointEveryNSteps { get; init; }
    public string? ResumeFrom { get; init; }

    /// <summary>Train the renderer branch (Options.UseRenderer) and write a montage after training.</summary>
    public bool UseRenderer { get; init; }

    /// <summary>Side of the rendered images (Options.RendererResolution).</summary>
    public int RendererResolution { get; init; } = Defaults.RendererResolution;

    /// <summary>Peak learning rate of the renderer's parameters (Options.RendererLearningRate).</summary>
    public float RendererLearningRate { get; init; } = Defaults.RendererLearningRate;

    /// <summary>Renderer camera field of view in degrees (Options.RendererFieldOfView).</summary>
    public float RendererFieldOfView { get; init; } = Defaults.RendererFieldOfView;

    /// <summary>Montage PNG to write with the renderer; null: beside the model (model.zip -> model.montage.png).</summary>
    public string? MontagePath { get; init; }

    /// <summary>Text file that receives the trainer's log lines as they come; null: no log file.</summary>
    public string? LogPath { get; init; }

    /// <summary>Optional standalone ONNX file to export as well.</summary>
    public string? OnnxPath { get; init; }

    /// <summary>Stretch every image to the model input, photos included, instead of refusing images that do not look like face crops (<see cref="ImagePolicy"/>).</summary>
    public bool Resize { get; init; }
}

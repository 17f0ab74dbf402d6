namespace LH2Face.Cli;

/// <summary>The evaluation protocols <c>lh2face evaluate</c> runs.</summary>
public enum EvaluationProtocol
{
    /// <summary>A verification .bin (lfw, cfp_fp, agedb_30, ...): 10-fold accuracy, ROC, TAR@FAR.</summary>
    Bin,

    /// <summary>IJB-B 1:1 template verification (meta/ + loose_crop/).</summary>
    IjbB,

    /// <summary>IJB-C 1:1 template verification.</summary>
    IjbC,

    /// <summary>An identity folder: all-pairs verification and 1:N identification (first image of each identity enrolled).</summary>
    Folder,

    /// <summary>
    /// The built-in SynthFace benchmark (--data small or full): its test pairs, stratified into hard-HQ,
    /// easy-HQ and LQ, and its template protocol, rendered on the fly (deterministic). For a model.zip
    /// trained with --renderer, also the PSNR of each test image's canonical face against its identity's
    /// ground-truth frontal render.
    /// </summary>
    SynthFace,
}

/// <summary>Everything <c>lh2face evaluate</c> takes.</summary>
public sealed record EvaluateSettings
{
    /// <summary>model.zip written by this project, or any ONNX face model with [N,3,S,S] input.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The data: a .bin file, an IJB root, an identity folder, or the SynthFace preset (small, full).</summary>
    public required string DataPath { get; init; }

    /// <summary>Protocol to run.</summary>
    public required EvaluationProtocol Protocol { get; init; }

    /// <summary>Folder for report.md, report.json and the plots.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Embed image + mirrored image (the protocols' default).</summary>
    public bool FlipTest { get; init; } = true;

    /// <summary>ONNX models: input side in pixels.</summary>
    public int InputSize { get; init; } = 112;

    /// <summary>ONNX models: normalisation (x - Mean) / Std; 127.5 / 127.5 is insightface's.</summary>
    public float Mean { get; init; } = 127.5f;

    /// <inheritdoc cref="Mean"/>
    public float Std { get; init; } = 127.5f;

    /// <summary>ONNX models: feed BGR instead of RGB.</summary>
    public bool Bgr { get; init; }

    /// <summary>Folder protocol: use at most this many images (all pairs among them are scored).</summary>
    public int MaxImages { get; init; } = 2000;

    /// <summary>Leave out (and count) images, or .bin pairs with an image, that do not decode completely instead of stopping with an error naming the first.</summary>
    public bool SkipCorrupt { get; init; }

    /// <summary>Stretch every image to the model input, photos included, instead of refusing images that do not look like face crops (<see cref="ImagePolicy"/>).</summary>
    public bool Resize { get; init; }
}

namespace LH2Face.Cli;

/// <summary>Everything <c>lh2face embed</c> takes.</summary>
public sealed record EmbedSettings
{
    /// <summary>Model zip written by <c>lh2face train</c>.</summary>
    public required string ModelPath { get; init; }

    /// <summary>One image file, or a folder searched recursively for .png/.jpg/.jpeg.</summary>
    public required string ImagesPath { get; init; }

    /// <summary>CSV to write: path,quality,e0,e1,...</summary>
    public required string OutputPath { get; init; }

    /// <summary>Leave out (and count) images that do not decode completely instead of stopping with an error naming the first.</summary>
    public bool SkipCorrupt { get; init; }

    /// <summary>Stretch every image to the model input, photos included, instead of refusing images that do not look like face crops (<see cref="ImagePolicy"/>).</summary>
    public bool Resize { get; init; }

    /// <summary>ONNX models without LH2Face metadata: input side in pixels.</summary>
    public int InputSize { get; init; } = 112;

    /// <summary>ONNX models without LH2Face metadata: normalisation (x - Mean) / Std.</summary>
    public float Mean { get; init; } = 127.5f;

    /// <summary>ONNX models without LH2Face metadata: normalisation (x - Mean) / Std.</summary>
    public float Std { get; init; } = 127.5f;

    /// <summary>ONNX models without LH2Face metadata: feed BGR instead of RGB.</summary>
    public bool Bgr { get; init; }
}

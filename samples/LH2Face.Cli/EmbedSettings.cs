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
}

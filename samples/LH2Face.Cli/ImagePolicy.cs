using System.Globalization;

namespace LH2Face.Cli;

/// <summary>
/// One rule for image sizes in every command (README "Image sizes"): an image of the model's input size is used as it
/// is; a face crop of another size (square within <see cref="SquareTolerance"/>, at most <see cref="MaxScale"/> times
/// the input side) is resized to it; anything else looks like a photo, not a crop, and is refused with a message unless
/// <c>--resize</c> asks for every image to be stretched to the input size anyway.
/// </summary>
public sealed class ImagePolicy(int inputSize, bool resize)
{
    /// <summary>Largest width/height ratio (either way) still taken as a square crop: 1.1 (e.g. 112 x 120).</summary>
    public const double SquareTolerance = 1.1;

    /// <summary>Largest side of a crop, in multiples of the input side: 4 (448 px for a 112 px model).</summary>
    public const int MaxScale = 4;

    /// <summary>Side of the model input in pixels.</summary>
    public int InputSize { get; } = inputSize;

    /// <summary>Whether --resize was given: every image is stretched to the input size.</summary>
    public bool Resize { get; } = resize;

    /// <summary>Why <paramref name="file"/> of <paramref name="width"/> x <paramref name="height"/> is refused, or null.</summary>
    public string? Refusal(string file, int width, int height)
    {
        if (Resize || (width == InputSize && height == InputSize))
            return null;
        double ratio = Math.Max(width, height) / (double)Math.Max(1, Math.Min(width, height));
        string why;
        if (ratio > SquareTolerance)
            why = string.Create(CultureInfo.InvariantCulture, $"is {width}x{height}, far from square (ratio {ratio:0.00})");
        else if (Math.Max(width, height) > MaxScale * InputSize)
            why = $"is {width}x{height}, more than {MaxScale} times the model's {InputSize}x{InputSize} input";
        else
            return null;
        return $"Image '{file}' {why}: it looks like a photo, not a face crop, and stretching it to {InputSize}x{InputSize} would embed the whole picture. "
            + $"Crop and align the faces first (5-point similarity to {InputSize}x{InputSize}), or pass --resize to stretch every image to the input size anyway.";
    }
}

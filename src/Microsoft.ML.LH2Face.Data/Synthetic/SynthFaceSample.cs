using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>One rendered SynthFace image with its ground truth.</summary>
public sealed class SynthFaceSample
{
    internal SynthFaceSample(int identity, int sample, SynthFaceFactors factors, int size, byte[] rgb, float[] landmarks, float[] depth, ReadOnlyMemory<byte> frontal)
    {
        Identity = identity;
        Sample = sample;
        Factors = factors;
        Size = size;
        Rgb = rgb;
        Landmarks = landmarks;
        Depth = depth;
        FrontalRgb = frontal;
    }

    /// <summary>Identity index within the generator's set.</summary>
    public int Identity { get; }

    /// <summary>Sample index within the identity (-1 for an image rendered from hand-set factors).</summary>
    public int Sample { get; }

    /// <summary>Every nuisance factor of the image.</summary>
    public SynthFaceFactors Factors { get; }

    /// <summary>Side of the image in pixels.</summary>
    public int Size { get; }

    /// <summary>The image, RGB bytes row by row (Size * Size * 3).</summary>
    public byte[] Rgb { get; }

    /// <summary>
    /// The 5 projected landmarks (x0, y0, ..., x4, y4) in pixels, pixel centres at integers: left eye, right eye,
    /// nose tip, left and right mouth corner, as in <see cref="FaceTemplate"/>. Projected whether visible or not.
    /// </summary>
    public float[] Landmarks { get; }

    /// <summary>Depth of the head per pixel (Size * Size), in pixels, larger is nearer the camera; 0 for background. Hands are not in it.</summary>
    public float[] Depth { get; }

    /// <summary>The identity's frontal render: neutral expression and light, grey background, no jitter or degradation (shared, read-only).</summary>
    public ReadOnlyMemory<byte> FrontalRgb { get; }

    /// <summary>The quality label.</summary>
    public SynthFaceQuality Quality => Factors.Quality;

    /// <summary>The hardness label.</summary>
    public SynthFaceHardness Hardness => Factors.Hardness;

    /// <summary>The image as an ML.NET <see cref="MLImage"/> (the caller disposes it).</summary>
    public MLImage ToImage() => ToImage(Rgb, Size);

    internal static MLImage ToImage(ReadOnlySpan<byte> rgb, int size) => ToImage(rgb, size, size);

    internal static MLImage ToImage(ReadOnlySpan<byte> rgb, int width, int height)
    {
        var rgba = new byte[width * height * 4];
        for (int i = 0, j = 0; j < rgba.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i];
            rgba[j + 1] = rgb[i + 1];
            rgba[j + 2] = rgb[i + 2];
            rgba[j + 3] = 255;
        }
        return MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
    }
}

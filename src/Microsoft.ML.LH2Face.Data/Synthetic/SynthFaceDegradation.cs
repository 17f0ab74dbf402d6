namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// The low-quality degradations of one image, applied in this order: exposure, Gaussian blur, motion blur,
/// down-then-up sampling, sensor noise, JPEG. A zero (or, for exposure, 1) leaves a step out.
/// Blur sizes are in pixels of the 112x112 frame and scale with the image size; <see cref="DownsampleSize"/> is absolute.
/// </summary>
public sealed record SynthFaceDegradation
{
    /// <summary>No degradation: the image is high quality.</summary>
    public static SynthFaceDegradation None { get; } = new();

    /// <summary>Exposure gain (below 1 under-exposed, above 1 over-exposed).</summary>
    public double ExposureGain { get; init; } = 1;

    /// <summary>Gaussian blur standard deviation in pixels at 112x112 (scaled with the image size).</summary>
    public double GaussianBlurSigma { get; init; }

    /// <summary>Motion blur length in pixels at 112x112 (scaled with the image size).</summary>
    public double MotionBlurLength { get; init; }

    /// <summary>Motion blur direction in degrees.</summary>
    public double MotionBlurAngle { get; init; }

    /// <summary>Side the image is reduced to before it is scaled back up (16..48), 0 for none.</summary>
    public int DownsampleSize { get; init; }

    /// <summary>Standard deviation of Gaussian sensor noise in 8-bit levels.</summary>
    public double NoiseSigma { get; init; }

    /// <summary>JPEG quality (1..100) the image is encoded at and decoded from, 0 for none.</summary>
    public int JpegQuality { get; init; }

    /// <summary>Seed of the noise pattern.</summary>
    public long NoiseSeed { get; init; }

    /// <summary>
    /// One number for how degraded the image is, for ranking (0 for a high-quality image): each step that
    /// applies adds 0.5 at the mild end of the generator's range up to 1 at the harsh end, so one mild step
    /// gives 0.5 and all of them at their harshest about 4. Ranges: Gaussian blur sigma 1.2..2.8, motion
    /// blur 5..12 px, down-sampling to 48..16 px, noise sigma 4..14, JPEG quality 30..8, exposure
    /// |log2 gain| 0.6..1.3; values outside a range are clamped to it.
    /// </summary>
    public double Severity =>
        Step(GaussianBlurSigma, 1.2, 2.8) + Step(MotionBlurLength, 5, 12) + (DownsampleSize > 0 ? Step(64 - DownsampleSize, 16, 48) : 0)
        + Step(NoiseSigma, 4, 14) + (JpegQuality > 0 ? Step(100 - JpegQuality, 70, 92) : 0) + Step(Math.Abs(Math.Log2(ExposureGain)), 0.6, 1.3);

    /// <summary>0 for an absent step (value 0), else 0.5 at <paramref name="mild"/> rising linearly to 1 at <paramref name="harsh"/>.</summary>
    private static double Step(double value, double mild, double harsh)
        => value <= 0 ? 0 : 0.5 + 0.5 * Math.Clamp((value - mild) / (harsh - mild), 0, 1);

    /// <summary>True when no step applies.</summary>
    public bool IsNone => ExposureGain == 1 && GaussianBlurSigma == 0 && MotionBlurLength == 0 && DownsampleSize == 0 && NoiseSigma == 0 && JpegQuality == 0;
}

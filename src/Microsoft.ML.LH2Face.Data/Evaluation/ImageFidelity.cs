namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// Pixel fidelity of rendered images against ground truth: PSNR, and the area resize that brings a
/// ground-truth image to the renderer's resolution. Images are planar float RGB in 0..255
/// (3 planes of side * side values), the layout of the model's Reconstruction and CanonicalFace columns.
/// </summary>
public static class ImageFidelity
{
    /// <summary>Peak value of 8-bit pixels, the PSNR reference.</summary>
    public const double PixelPeak = 255;

    /// <summary>
    /// Peak signal-to-noise ratio in dB: 10 log10(peak^2 / MSE), the mean squared error taken over every
    /// value of both images. Identical images give +infinity.
    /// </summary>
    public static double Psnr(ReadOnlySpan<float> image, ReadOnlySpan<float> reference, double peak = PixelPeak)
    {
        if (image.Length != reference.Length)
            throw new ArgumentException($"The image has {image.Length} values and the reference {reference.Length}: resize one to the other first (ImageFidelity.ResizeArea).", nameof(image));
        if (image.Length == 0)
            throw new ArgumentException("The images are empty.", nameof(image));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(peak);
        double sum = 0;
        for (int i = 0; i < image.Length; i++)
        {
            double d = image[i] - (double)reference[i];
            sum += d * d;
        }
        double mse = sum / image.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(peak * peak / mse);
    }

    /// <summary>
    /// Resizes planar images of <paramref name="channels"/> planes from <paramref name="size"/> to
    /// <paramref name="target"/> pixels square by area averaging: output pixel i averages input rows and
    /// columns floor(i * size / target) .. ceil((i + 1) * size / target) - 1, as PyTorch's
    /// adaptive_avg_pool2d does (the renderer's training target is made that way).
    /// </summary>
    public static float[] ResizeArea(ReadOnlySpan<float> planar, int channels, int size, int target)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(target);
        if (planar.Length != channels * size * size)
            throw new ArgumentException($"Expected {channels} planes of {size}x{size} ({channels * size * size} values), got {planar.Length}.", nameof(planar));
        var result = new float[channels * target * target];
        for (int c = 0; c < channels; c++)
        {
            var plane = planar.Slice(c * size * size, size * size);
            for (int oy = 0; oy < target; oy++)
            {
                int y0 = oy * size / target, y1 = ((oy + 1) * size + target - 1) / target;
                for (int ox = 0; ox < target; ox++)
                {
                    int x0 = ox * size / target, x1 = ((ox + 1) * size + target - 1) / target;
                    double sum = 0;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++)
                            sum += plane[y * size + x];
                    result[(c * target + oy) * target + ox] = (float)(sum / ((y1 - y0) * (x1 - x0)));
                }
            }
        }
        return result;
    }

    /// <summary>Interleaved RGB bytes (row by row, as <see cref="Synthetic.SynthFaceSample.Rgb"/>) as planar floats 0..255.</summary>
    public static float[] ToPlanar(ReadOnlySpan<byte> rgb, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        int plane = size * size;
        if (rgb.Length != 3 * plane)
            throw new ArgumentException($"Expected {size}x{size} RGB ({3 * plane} bytes), got {rgb.Length}.", nameof(rgb));
        var planar = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            planar[p] = rgb[3 * p];
            planar[plane + p] = rgb[3 * p + 1];
            planar[2 * plane + p] = rgb[3 * p + 2];
        }
        return planar;
    }

    /// <summary>Mean and median of per-image PSNRs (dB) as one result.</summary>
    public static ImageFidelityResult Summarise(IReadOnlyList<double> psnrs)
    {
        ArgumentNullException.ThrowIfNull(psnrs);
        if (psnrs.Count == 0)
            throw new ArgumentException("No PSNR values to summarise.", nameof(psnrs));
        var sorted = psnrs.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        return new ImageFidelityResult(n, sorted.Average(), median);
    }
}

using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Scores canonical faces (the renderer's J) against SynthFace's ground truth, the identity's frontal
/// render under neutral light (<see cref="SynthFaceSample.FrontalRgb"/>): PSNR per image, summarised
/// over all images and per image stratum (an image is LQ when low quality, else hard-HQ or easy-HQ by
/// its hardness). The frontal render is brought to the renderer resolution R by area averaging, as the
/// renderer's training target is. No alignment step: SynthFace images and frontal renders share the
/// ArcFace-aligned crop frame, which is the renderer's canonical frame at zero view. The canonical
/// face keeps the light the renderer estimated for the image, so light differences count as error.
/// </summary>
public static class SynthFaceCanonicalFidelity
{
    /// <summary>Images rendered at a time.</summary>
    private const int Chunk = 128;

    /// <summary>Name of the summary over every image.</summary>
    public const string AllImages = "all";

    /// <summary>
    /// Renders every (identity, sample) of <paramref name="images"/> with <paramref name="generator"/>,
    /// asks <paramref name="render"/> for their canonical faces (planar RGB 0..255, 3 * R * R values
    /// each, in order), and returns the PSNR summaries: <see cref="AllImages"/>, then each stratum
    /// (EasyHQ, HardHQ, LQ) that has images.
    /// </summary>
    public static IReadOnlyDictionary<string, ImageFidelityResult> Measure(
        SynthFaceGenerator generator, IReadOnlyList<(int Identity, int Sample)> images, int resolution,
        Func<IReadOnlyList<SynthFaceSample>, IReadOnlyList<float[]>> render, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(render);
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, 1);
        if (images.Count == 0)
            throw new ArgumentException("No images to score.", nameof(images));
        var frontal = new Dictionary<int, float[]>();
        var psnr = new List<(SynthFaceStratum Stratum, double Value)>(images.Count);
        for (int start = 0; start < images.Count; start += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var samples = images.Skip(start).Take(Chunk).Select(k => generator.Generate(k.Identity, k.Sample)).ToList();
            var canonical = render(samples);
            if (canonical.Count != samples.Count)
                throw new InvalidOperationException($"The renderer returned {canonical.Count} canonical faces for {samples.Count} images.");
            for (int i = 0; i < samples.Count; i++)
            {
                var sample = samples[i];
                if (!frontal.TryGetValue(sample.Identity, out var truth))
                {
                    truth = ImageFidelity.ResizeArea(ImageFidelity.ToPlanar(sample.FrontalRgb.Span, sample.Size), 3, sample.Size, resolution);
                    frontal[sample.Identity] = truth;
                }
                if (canonical[i].Length != truth.Length)
                    throw new InvalidOperationException($"Canonical face {start + i} has {canonical[i].Length} values; expected planar RGB at {resolution}x{resolution} ({truth.Length}).");
                psnr.Add((StratumOf(sample.Factors), ImageFidelity.Psnr(canonical[i], truth)));
            }
        }
        var result = new Dictionary<string, ImageFidelityResult> { [AllImages] = ImageFidelity.Summarise(psnr.Select(p => p.Value).ToList()) };
        foreach (var stratum in Enum.GetValues<SynthFaceStratum>())
        {
            var values = psnr.Where(p => p.Stratum == stratum).Select(p => p.Value).ToList();
            if (values.Count > 0)
                result[stratum.ToString()] = ImageFidelity.Summarise(values);
        }
        return result;
    }

    /// <summary>The stratum of one image: LQ when low quality, else HardHQ or EasyHQ by its hardness (the pair rule with the image twice).</summary>
    public static SynthFaceStratum StratumOf(SynthFaceFactors factors) => SynthFaceProtocol.StratumOf(factors, factors);
}

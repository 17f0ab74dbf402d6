using System.Numerics.Tensors;
using Microsoft.ML.LH2Face.Data.Embedding;
using Microsoft.ML.LH2Face.Data.Evaluation;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Scores a face model on a SynthFace protocol's verification pairs, per stratum (hard-HQ, easy-HQ,
/// LQ): every image the pairs use is rendered once, area-resized to the model's input size, embedded
/// (a chunk of images at a time, so memory holds the embeddings, not every image), and each pair scored
/// by cosine similarity. The pairs and metrics of <c>lh2face evaluate --protocol SynthFace</c>, as one
/// call for notebooks and apps; the images differ only in the resize (evaluate warps 112 px renders
/// bilinearly to other input sizes), so below 112 px the two report slightly different numbers.
/// </summary>
public sealed class SynthFaceEvaluation
{
    private SynthFaceEvaluation(SynthFaceProtocol protocol, IReadOnlyList<(int Identity, int Sample)> images, float[][] embeddings, float[] scores,
        IReadOnlyDictionary<string, VerificationResult> strata)
    {
        Protocol = protocol;
        Images = images;
        Embeddings = embeddings;
        PairScores = scores;
        Strata = strata;
    }

    /// <summary>The protocol scored.</summary>
    public SynthFaceProtocol Protocol { get; }

    /// <summary>The distinct (identity, sample) images the pairs use, in the order of <see cref="Embeddings"/>.</summary>
    public IReadOnlyList<(int Identity, int Sample)> Images { get; }

    /// <summary>One embedding per image of <see cref="Images"/>.</summary>
    public float[][] Embeddings { get; }

    /// <summary>The cosine score of each pair of <see cref="SynthFaceProtocol.Pairs"/>, in order.</summary>
    public float[] PairScores { get; }

    /// <summary>Metrics per stratum ("EasyHQ", "HardHQ", "LQ").</summary>
    public IReadOnlyDictionary<string, VerificationResult> Strata { get; }

    /// <summary>The distinct images of the protocol's pairs, in first-use order.</summary>
    public static IReadOnlyList<(int Identity, int Sample)> PairImages(SynthFaceProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        return protocol.Pairs.SelectMany(p => new[] { (p.IdentityA, p.SampleA), (p.IdentityB, p.SampleB) }).Distinct().ToList();
    }

    /// <summary>
    /// Renders <paramref name="images"/> with <paramref name="generator"/> as planar RGB floats in 0..255
    /// (all red values row by row, then green, then blue), area-resized to <paramref name="size"/>.
    /// </summary>
    public static float[][] RenderPlanar(SynthFaceGenerator generator, IReadOnlyList<(int Identity, int Sample)> images, int size)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        var planar = new float[images.Count][];
        Parallel.For(0, images.Count, i =>
        {
            var sample = generator.Generate(images[i].Identity, images[i].Sample);
            var pixels = ImageFidelity.ToPlanar(sample.Rgb, sample.Size);
            planar[i] = sample.Size == size ? pixels : ImageFidelity.ResizeArea(pixels, 3, sample.Size, size);
        });
        return planar;
    }

    /// <summary>Embeds the protocol's test images with <paramref name="embedder"/> and scores every pair.</summary>
    /// <param name="embedder">The model (e.g. <see cref="MlNetModelEmbedder"/> on a saved model.zip, or <see cref="OnnxFaceEmbedder"/>).</param>
    /// <param name="protocol">The protocol; its test generator renders the images.</param>
    /// <param name="flipTest">Add the embedding of the mirrored image (insightface's flip test).</param>
    public static SynthFaceEvaluation Evaluate(IFaceEmbedder embedder, SynthFaceProtocol protocol, bool flipTest = false)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        return Evaluate(planar => embedder.Embed(planar, flipTest), embedder.InputSize, protocol);
    }

    /// <summary>Images rendered and embedded at a time, by default.</summary>
    public const int DefaultChunkSize = 512;

    /// <summary>
    /// Scores every pair with embeddings from <paramref name="embed"/>, which receives planar RGB images of
    /// <paramref name="inputSize"/> pixels (see <see cref="RenderPlanar"/>), at most <paramref name="chunkSize"/> at a
    /// time, and returns one vector for each.
    /// </summary>
    public static SynthFaceEvaluation Evaluate(Func<IReadOnlyList<float[]>, float[][]> embed, int inputSize, SynthFaceProtocol protocol, int chunkSize = DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(embed);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var images = PairImages(protocol);
        var generator = new SynthFaceGenerator(protocol.TestOptions);
        var embeddings = new float[images.Count][];
        for (int start = 0; start < images.Count; start += chunkSize)
        {
            var chunk = images.Skip(start).Take(chunkSize).ToList();
            var vectors = embed(RenderPlanar(generator, chunk, inputSize));
            if (vectors is null || vectors.Length != chunk.Count)
                throw new InvalidOperationException($"The embedder returned {vectors?.Length ?? 0} embeddings for {chunk.Count} images: it must return one per image.");
            Array.Copy(vectors, 0, embeddings, start, chunk.Count);
        }
        var index = new Dictionary<(int, int), int>(images.Count);
        for (int i = 0; i < images.Count; i++)
            index[images[i]] = i;
        var scores = protocol.Pairs.Select(p => TensorPrimitives.CosineSimilarity(embeddings[index[(p.IdentityA, p.SampleA)]], embeddings[index[(p.IdentityB, p.SampleB)]])).ToArray();
        var strata = StratifiedVerification.Evaluate(scores, protocol.Pairs.Select(p => p.IsSame).ToArray(), protocol.Pairs.Select(p => p.Stratum.ToString()).ToList());
        return new SynthFaceEvaluation(protocol, images, embeddings, scores, strata);
    }

    /// <summary>TAR at <paramref name="far"/> in stratum <paramref name="stratum"/> (e.g. "HardHQ", 1e-2), as a fraction.</summary>
    public double TarAt(string stratum, double far)
    {
        if (!Strata.TryGetValue(stratum, out var result))
            throw new ArgumentException($"No stratum '{stratum}': this evaluation has {string.Join(", ", Strata.Keys)}.", nameof(stratum));
        var point = result.TarAtFar.FirstOrDefault(t => Math.Abs(t.TargetFar - far) <= 1e-12 * Math.Max(1, far))
            ?? throw new ArgumentException($"TAR is read at FAR {string.Join(", ", result.TarAtFar.Select(t => t.TargetFar))}; {far} is not one of them.", nameof(far));
        return point.Tar;
    }
}

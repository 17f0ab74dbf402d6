using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// SynthFace as an ML.NET <see cref="IDataView"/>: a lazy enumerable of <see cref="SynthFaceRow"/> loaded
/// with <c>LoadFromEnumerable</c>. Rows come identity by identity, sample by sample; they are rendered in
/// parallel batches and yielded in that fixed order, so every cursor sees the same bytes. Each cursor
/// renders again: add <c>AppendCacheCheckpoint</c> to render once.
/// </summary>
public static class SynthFaceDataView
{
    /// <summary>
    /// The view of identities <paramref name="firstIdentity"/> .. +<paramref name="identities"/>, each with
    /// <paramref name="imagesPerIdentity"/> images. Columns: Image (image type), Label (key over the identities),
    /// Identity, Sample, Session, Quality, Hardness, Yaw, Pitch, Roll, Smile, MouthOpen, EyesClosed, BrowsRaised,
    /// LightAzimuth, LightElevation, Occluder, Landmarks.
    /// </summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="generator">The generator (its options fix the people and the images).</param>
    /// <param name="identities">Number of identities (the key count of Label).</param>
    /// <param name="imagesPerIdentity">Images per identity.</param>
    /// <param name="firstIdentity">Index of the first identity.</param>
    /// <param name="batchSize">Rows rendered in parallel at a time.</param>
    /// <param name="maxDegreeOfParallelism">Threads per batch; -1 for all cores.</param>
    public static IDataView Create(MLContext mlContext, SynthFaceGenerator generator, int identities, int imagesPerIdentity,
        int firstIdentity = 0, int batchSize = 64, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(identities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerIdentity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(firstIdentity);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int size = generator.ImageSize;
        var schema = SchemaDefinition.Create(typeof(SynthFaceRow));
        // Sizes other than 112 need their own MLImage <-> image type registration (the attribute registers 112 only).
        var imageType = MLImageTypes.For(size, size);
        schema[nameof(SynthFaceRow.Image)].ColumnType = imageType;
        schema[nameof(SynthFaceRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), identities);
        return mlContext.Data.LoadFromEnumerable(Rows(generator, identities, imagesPerIdentity, firstIdentity, batchSize, maxDegreeOfParallelism), schema);
    }

    /// <summary>The rows in order, rendered in parallel batches.</summary>
    public static IEnumerable<SynthFaceRow> Rows(SynthFaceGenerator generator, int identities, int imagesPerIdentity,
        int firstIdentity = 0, int batchSize = 64, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        long total = (long)identities * imagesPerIdentity;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        for (long start = 0; start < total; start += batchSize)
        {
            int n = (int)Math.Min(batchSize, total - start);
            var batch = new SynthFaceRow[n];
            long first = start;
            Parallel.For(0, n, parallel, k =>
            {
                long index = first + k;
                int identity = firstIdentity + (int)(index / imagesPerIdentity), sample = (int)(index % imagesPerIdentity);
                batch[k] = MakeRow(generator, identity, sample, (uint)(identity - firstIdentity));
            });
            foreach (var row in batch)
                yield return row;
        }
    }

    private static SynthFaceRow MakeRow(SynthFaceGenerator generator, int identity, int sample, uint label)
    {
        var f = generator.DrawFactors(identity, sample);
        var landmarks = new float[10];
        var rgb = generator.RenderRgb(identity, f, landmarks);
        return new SynthFaceRow
        {
            Image = SynthFaceSample.ToImage(rgb, generator.ImageSize),
            Label = label,
            Identity = identity,
            Sample = sample,
            Session = f.Session,
            Quality = f.Quality.ToString(),
            Hardness = f.Hardness.ToString(),
            Yaw = (float)f.Yaw, Pitch = (float)f.Pitch, Roll = (float)f.Roll,
            Smile = (float)f.Smile, MouthOpen = (float)f.MouthOpen, EyesClosed = (float)f.EyesClosed, BrowsRaised = (float)f.BrowsRaised,
            LightAzimuth = (float)f.LightAzimuth, LightElevation = (float)f.LightElevation,
            Occluder = f.Occluder.ToString(),
            Landmarks = landmarks,
        };
    }
}

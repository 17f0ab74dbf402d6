using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// Training images held in memory as planar RGB (bytes when every value is an integer in 0..255, as
/// ExtractPixels gives; floats otherwise) with zero-based class indices. Read once from the IDataView so
/// that every epoch can visit the images in a seeded random order (and a resumed run can continue in
/// the middle of one), and so that MLImage values, which ML.NET disposes after one pass, are read once.
/// </summary>
internal sealed class FaceImageSet : ITrainingImages
{
    private readonly List<byte[]>? bytes;
    private readonly List<float[]>? floats;

    private FaceImageSet(List<byte[]>? bytes, List<float[]>? floats, int[] labels, int classCount, int inputSize)
    {
        this.bytes = bytes;
        this.floats = floats;
        Labels = labels;
        ClassCount = classCount;
        InputSize = inputSize;
    }

    public int Count => Labels.Length;

    public int[] Labels { get; }

    public int ClassCount { get; }

    public int InputSize { get; }

    public int PixelsPerImage => 3 * InputSize * InputSize;

    /// <summary>Reads every row of <paramref name="data"/>: a key label column and a planar pixel vector column.</summary>
    public static FaceImageSet Load(IDataView data, string labelColumn, string pixelColumn, int inputSize, long maxBytes, string dataName, CancellationToken cancellation)
        => TryLoad(data, labelColumn, pixelColumn, inputSize, maxBytes, dataName, cancellation, streamable: false)!;

    /// <summary>
    /// <see cref="Load"/>, except that when <paramref name="streamable"/> and the pixels pass <paramref name="maxBytes"/>, it
    /// stops reading and returns null (the caller streams instead) rather than failing.
    /// </summary>
    public static FaceImageSet? TryLoad(IDataView data, string labelColumn, string pixelColumn, int inputSize, long maxBytes, string dataName, CancellationToken cancellation, bool streamable)
    {
        var labelCol = data.Schema[labelColumn];
        var pixelCol = data.Schema[pixelColumn];
        int classCount = checked((int)((KeyDataViewType)labelCol.Type).Count);
        int pixelsPerImage = 3 * inputSize * inputSize;
        var byteImages = new List<byte[]>();
        List<float[]>? floatImages = null;
        var labels = new List<int>();
        long bytesSoFar = 0;
        using var cursor = data.GetRowCursor(new[] { labelCol, pixelCol });
        var getLabel = cursor.GetGetter<uint>(labelCol);
        var getPixels = cursor.GetGetter<VBuffer<float>>(pixelCol);
        uint key = 0;
        var pixels = default(VBuffer<float>);
        long row = 0;
        while (cursor.MoveNext())
        {
            cancellation.ThrowIfCancellationRequested();
            getLabel(ref key);
            CheckLabel(key, labelColumn, dataName, row);
            getPixels(ref pixels);
            CheckPixelCount(pixels.Length, inputSize, dataName, row);
            // The getter's own buffer, not a copy: a float copy per image (150 KB at 112 px, on the large object heap) is
            // garbage the collector reclaims late, and cost gigabytes of resident memory while a large set was cached.
            var values = pixels.IsDense ? pixels.GetValues() : pixels.DenseValues().ToArray();
            if (floatImages is null && IsByteImage(values))
            {
                var imageBytes = new byte[pixelsPerImage];
                for (int i = 0; i < imageBytes.Length; i++)
                    imageBytes[i] = (byte)values[i];
                byteImages.Add(imageBytes);
                bytesSoFar += pixelsPerImage;
            }
            else
            {
                if (floatImages is null)
                {
                    // A non-integral value: keep every image as floats from here on.
                    floatImages = byteImages.Select(b => b.Select(v => (float)v).ToArray()).ToList();
                    bytesSoFar = 4L * pixelsPerImage * floatImages.Count;
                    byteImages.Clear();
                }
                floatImages.Add(values.ToArray());
                bytesSoFar += 4L * pixelsPerImage;
            }
            if (bytesSoFar > maxBytes)
            {
                if (streamable)
                    return null;
                throw new InvalidOperationException(
                    $"The {dataName} needs more than MaxCacheBytes = {maxBytes} bytes of pixels in memory at InputSize {inputSize}: raise Options.MaxCacheBytes, " +
                    "lower InputSize, or pass Fit a view it can stream (ImageFolderReader.ToDataView() or InsightFaceRecordReader.ToDataView(), with no transform in between) with DataLoading = Auto or Stream.");
            }
            labels.Add((int)key - 1);
            row++;
            if (row % ReclaimEvery == 0)
                ReclaimImages();
        }
        if (labels.Count == 0)
            throw new InvalidOperationException($"The {dataName} has no rows.");
        return floatImages is null
            ? new FaceImageSet(byteImages, null, labels.ToArray(), classCount, inputSize)
            : new FaceImageSet(null, floatImages, labels.ToArray(), classCount, inputSize);
    }

    /// <summary>Rows read between two <see cref="ReclaimImages"/> calls.</summary>
    private const int ReclaimEvery = 1000;

    /// <summary>
    /// Runs the finalizers of the images read so far. An MLImage holds its pixels in native (SkiaSharp) memory the
    /// collector does not see, and ML.NET's image transforms leave the images they make to the finalizer; reading a
    /// large set produces little managed garbage, so without this the native images pile up (measured: resident memory
    /// 5 GiB after 40,000 images at 112 px whose cached pixels take 1.4 GiB).
    /// </summary>
    public static void ReclaimImages()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>Throws when a row's key label is missing (0).</summary>
    public static void CheckLabel(uint key, string labelColumn, string dataName, long row)
    {
        if (key == 0)
            throw new InvalidOperationException(
                $"Column '{labelColumn}' of the {dataName} has a missing key value at row {row}: every image needs a label known to MapValueToKey.");
    }

    /// <summary>Throws when a row has the wrong number of pixel values for the input size.</summary>
    public static void CheckPixelCount(int count, int inputSize, string dataName, long row)
    {
        int pixelsPerImage = 3 * inputSize * inputSize;
        if (count != pixelsPerImage)
            throw new InvalidOperationException(
                $"Row {row} of the {dataName} has {count} pixel values; the model input needs 3*{inputSize}*{inputSize} = {pixelsPerImage}.");
    }

    public string Describe() => $"cached in memory ({Count} images, {FormatBytes((bytes is not null ? 1 : 4) * (long)Count * PixelsPerImage)} of pixels)";

    /// <summary>A size for messages: bytes below a megabyte, whole megabytes above.</summary>
    public static string FormatBytes(long bytes) => bytes < 1 << 20 ? $"{bytes} bytes" : $"{bytes >> 20} MB";

    public void Fill(int[] indices, bool[] flips, float[] destination)
    {
        int pixels = PixelsPerImage;
        for (int i = 0; i < indices.Length; i++)
            CopyImage(indices[i], destination.AsSpan(i * pixels, pixels), flips[i]);
    }

    private static bool IsByteImage(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
        {
            if (v < 0 || v > 255 || v != MathF.Floor(v))
                return false;
        }
        return true;
    }

    /// <summary>Copies image <paramref name="index"/> into <paramref name="destination"/> (planar RGB), mirrored left-right when asked.</summary>
    public void CopyImage(int index, Span<float> destination, bool flip)
    {
        if (bytes is not null)
            CopyPlanar<byte>(bytes[index], destination, flip, InputSize);
        else
            CopyPlanar<float>(floats![index], destination, flip, InputSize);
    }

    /// <summary>Planar rows of every channel are consecutive runs of <paramref name="side"/> values, so a mirror reverses each run.</summary>
    public static void CopyPlanar<T>(ReadOnlySpan<T> source, Span<float> destination, bool flip, int side)
        where T : System.Numerics.INumberBase<T>
    {
        if (!flip)
        {
            for (int i = 0; i < source.Length; i++)
                destination[i] = float.CreateTruncating(source[i]);
            return;
        }
        for (int row = 0; row < source.Length; row += side)
        {
            for (int x = 0; x < side; x++)
                destination[row + x] = float.CreateTruncating(source[row + side - 1 - x]);
        }
    }
}

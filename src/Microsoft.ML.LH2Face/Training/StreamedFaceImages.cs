using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// Training images read from their source as the batches need them: only the labels stay in memory (read in one pass
/// over the label column, which decodes no image). A batch is split into one run of positions per decoding thread;
/// each run is a view of those rows (<see cref="IRandomAccessDataView.SelectRows"/>) passed through the same
/// preprocessing transformer as a cached set (resize, planar pixels), so a streamed image is bit for bit the image the
/// cache would hold.
/// </summary>
internal sealed class StreamedFaceImages : ITrainingImages
{
    private readonly IRandomAccessDataView source;
    private readonly ITransformer? preprocessing;
    private readonly string pixelColumn;
    private readonly string dataName;
    private readonly int threads;
    private readonly string reason;

    private StreamedFaceImages(IRandomAccessDataView source, ITransformer? preprocessing, string pixelColumn, int[] labels, int classCount, int inputSize,
        int threads, string dataName, string reason)
    {
        this.source = source;
        this.preprocessing = preprocessing;
        this.pixelColumn = pixelColumn;
        Labels = labels;
        ClassCount = classCount;
        InputSize = inputSize;
        this.threads = threads;
        this.dataName = dataName;
        this.reason = reason;
    }

    public int Count => Labels.Length;

    public int[] Labels { get; }

    public int ClassCount { get; }

    public int InputSize { get; }

    public int PixelsPerImage => 3 * InputSize * InputSize;

    /// <summary>
    /// Reads the labels of <paramref name="source"/>. <paramref name="preprocessing"/> maps the source's image column to
    /// <paramref name="pixelColumn"/> (null when the source already holds planar pixels in that column).
    /// </summary>
    public static StreamedFaceImages Open(IRandomAccessDataView source, ITransformer? preprocessing, string labelColumn, string pixelColumn, int inputSize,
        int threads, string dataName, string reason, CancellationToken cancellation)
    {
        var labelCol = source.Schema[labelColumn];
        int classCount = checked((int)((KeyDataViewType)labelCol.Type).Count);
        var labels = new int[source.RowCount];
        using (var cursor = source.GetRowCursor(new[] { labelCol }))
        {
            var getLabel = cursor.GetGetter<uint>(labelCol);
            uint key = 0;
            int row = 0;
            while (cursor.MoveNext())
            {
                cancellation.ThrowIfCancellationRequested();
                if (row == labels.Length)
                    throw new InvalidOperationException($"The {dataName} gave more rows than its RowCount, {labels.Length}: its IRandomAccessDataView implementation is inconsistent.");
                getLabel(ref key);
                FaceImageSet.CheckLabel(key, labelColumn, dataName, row);
                labels[row++] = (int)key - 1;
            }
            if (row != labels.Length)
                throw new InvalidOperationException($"The {dataName} gave {row} rows; its RowCount says {labels.Length}: its IRandomAccessDataView implementation is inconsistent.");
        }
        if (labels.Length == 0)
            throw new InvalidOperationException($"The {dataName} has no rows.");
        return new StreamedFaceImages(source, preprocessing, pixelColumn, labels, classCount, inputSize, threads, dataName, reason);
    }

    public string Describe() => $"streamed ({Count} images, {threads} decoding thread(s); {reason})";

    public void Fill(int[] indices, bool[] flips, float[] destination)
    {
        int runs = Math.Min(threads, indices.Length);
        if (runs <= 1)
        {
            FillRun(indices, flips, destination, 0, indices.Length);
            return;
        }
        try
        {
            Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = runs }, run =>
            {
                int start = (int)((long)indices.Length * run / runs);
                int end = (int)((long)indices.Length * (run + 1) / runs);
                FillRun(indices, flips, destination, start, end);
            });
        }
        catch (AggregateException e)
        {
            // The first run's own error (an image that does not decode names its file or record), not "One or more errors occurred".
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private void FillRun(int[] indices, bool[] flips, float[] destination, int start, int end)
    {
        IDataView view = source.SelectRows(new ArraySegment<int>(indices, start, end - start));
        if (preprocessing is not null)
            view = preprocessing.Transform(view);
        var column = view.Schema[pixelColumn];
        int pixels = PixelsPerImage;
        using var cursor = view.GetRowCursor(new[] { column });
        var getPixels = cursor.GetGetter<VBuffer<float>>(column);
        var values = default(VBuffer<float>);
        for (int i = start; i < end; i++)
        {
            if (!cursor.MoveNext())
                throw new InvalidOperationException($"The {dataName} gave {i - start} of the {end - start} rows asked for: its IRandomAccessDataView implementation is inconsistent.");
            getPixels(ref values);
            FaceImageSet.CheckPixelCount(values.Length, InputSize, dataName, indices[i]);
            var dense = values.IsDense ? values.GetValues() : values.DenseValues().ToArray();
            FaceImageSet.CopyPlanar<float>(dense, destination.AsSpan(i * pixels, pixels), flips[i], InputSize);
        }
    }
}

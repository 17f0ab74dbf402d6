namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// An <see cref="IDataView"/> whose rows can be read in any order by their position, as formats with an index allow (an
/// image folder's file list, an insightface RecordIO pack's .idx). The LH2Face trainer streams such a view (decodes
/// each epoch's images as the batches need them) instead of holding every image in memory: see
/// <c>LH2FaceTrainer.Options.DataLoading</c>. <see cref="ImageFolderReader.ToDataView()"/> and
/// <see cref="InsightFaceRecordReader.ToDataView"/> return one.
/// </summary>
public interface IRandomAccessDataView : IDataView
{
    /// <summary>Number of rows: positions run from 0 to RowCount - 1.</summary>
    int RowCount { get; }

    /// <summary>
    /// A view of the rows at <paramref name="positions"/>, in that order, with this view's schema; its values are read (and
    /// images decoded) only when a cursor's getter asks. Views from different threads may be read at the same time.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A position is outside 0..RowCount - 1.</exception>
    IDataView SelectRows(IReadOnlyList<int> positions);
}

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// A <see cref="RowDataView{TRow}"/> over <paramref name="count"/> rows that <paramref name="rowAt"/> builds from their
/// position, so any subset can be read in any order (<see cref="SelectRows"/>) without touching the others.
/// </summary>
internal sealed class IndexedRowDataView<TRow>(int count, Func<int, TRow> rowAt, params RowColumn<TRow>[] columns) : IRandomAccessDataView
{
    private readonly RowDataView<TRow> _all = new(() => Enumerable.Range(0, count).Select(rowAt), count, columns);

    public int RowCount => count;

    public bool CanShuffle => false;

    public DataViewSchema Schema => _all.Schema;

    public long? GetRowCount() => count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        => _all.GetRowCursor(columnsNeeded, rand);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => _all.GetRowCursorSet(columnsNeeded, n, rand);

    public IDataView SelectRows(IReadOnlyList<int> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        foreach (int position in positions)
        {
            if ((uint)position >= (uint)count)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), position, $"Row positions run from 0 to {count - 1}.");
            }
        }
        var copy = positions.ToArray();
        return new RowDataView<TRow>(() => copy.Select(rowAt), copy.Length, columns);
    }
}

using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>Fills <paramref name="value"/> from the current row; image columns dispose the previous value first.</summary>
internal delegate void RowValue<TRow, TValue>(TRow row, ref TValue value);

/// <summary>One output column of a <see cref="RowDataView{TRow}"/>.</summary>
internal abstract class RowColumn<TRow>
{
    protected RowColumn(string name, DataViewType type, DataViewSchema.Annotations? annotations)
    {
        Name = name;
        Type = type;
        Annotations = annotations;
    }

    public string Name { get; }

    public DataViewType Type { get; }

    public DataViewSchema.Annotations? Annotations { get; }

    public abstract Type ValueType { get; }

    public abstract Delegate MakeGetter(Func<TRow> current);

    public static RowColumn<TRow> Create<TValue>(string name, DataViewType type, RowValue<TRow, TValue> value, DataViewSchema.Annotations? annotations = null)
        => new Typed<TValue>(name, type, value, annotations);

    private sealed class Typed<TValue>(string name, DataViewType type, RowValue<TRow, TValue> value, DataViewSchema.Annotations? annotations)
        : RowColumn<TRow>(name, type, annotations)
    {
        public override Type ValueType => typeof(TValue);

        public override Delegate MakeGetter(Func<TRow> current)
            => (ValueGetter<TValue>)((ref TValue dst) => value(current(), ref dst));
    }
}

/// <summary>
/// A read-only, streaming <see cref="IDataView"/> over rows produced lazily by an enumerable factory: each cursor
/// enumerates afresh, and column values (image decoding included) are computed only when a getter asks.
/// </summary>
internal sealed class RowDataView<TRow> : IDataView
{
    private readonly Func<IEnumerable<TRow>> _rows;
    private readonly long? _rowCount;
    private readonly RowColumn<TRow>[] _columns;

    public RowDataView(Func<IEnumerable<TRow>> rows, long? rowCount, params RowColumn<TRow>[] columns)
    {
        _rows = rows;
        _rowCount = rowCount;
        _columns = columns;
        var builder = new DataViewSchema.Builder();
        foreach (var column in columns)
        {
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        }
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        => new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly RowDataView<TRow> _parent;
        private readonly HashSet<int> _active;
        private readonly IEnumerator<TRow> _enumerator;
        private long _position = -1;
        private bool _done;

        public Cursor(RowDataView<TRow> parent, HashSet<int> active)
        {
            _parent = parent;
            _active = active;
            _enumerator = parent._rows().GetEnumerator();
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter()
            => (ref DataViewRowId value) => value = new DataViewRowId((ulong)Current().Position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            }
            var definition = _parent._columns[column.Index];
            if (definition.ValueType != typeof(TValue))
            {
                throw new InvalidOperationException($"Column '{column.Name}' holds {definition.ValueType.Name}, not {typeof(TValue).Name}.");
            }
            return (ValueGetter<TValue>)definition.MakeGetter(() => Current().Row);
        }

        public override bool MoveNext()
        {
            if (_done)
            {
                return false;
            }
            if (_enumerator.MoveNext())
            {
                _position++;
                return true;
            }
            _done = true;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _enumerator.Dispose();
            }
            base.Dispose(disposing);
        }

        private (TRow Row, long Position) Current()
        {
            if (_position < 0 || _done)
            {
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
            }
            return (_enumerator.Current, _position);
        }
    }
}

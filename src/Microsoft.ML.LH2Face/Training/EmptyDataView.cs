using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// A data view with a schema and no rows: what ML.NET's estimators need to be fitted to a schema when no data is at hand
/// (a transformer rebuilt from a model.zip).
/// </summary>
internal sealed class EmptyDataView : IDataView
{
    private EmptyDataView(DataViewSchema schema) => Schema = schema;

    /// <summary>A view with the model's image column: an MLImage of the input size, or the planar pixel vector.</summary>
    public static EmptyDataView For(LH2FaceModelDescription description)
    {
        var builder = new DataViewSchema.Builder();
        int side = description.InputSize;
        DataViewType type = description.Settings.InputKind == ImageInputKind.Image
            ? new ImageDataViewType(side, side)
            : new VectorDataViewType(NumberDataViewType.Single, 3 * side * side);
        builder.AddColumn(description.Settings.ImageColumn, type);
        return new EmptyDataView(builder.ToSchema());
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => 0;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(Schema);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(Schema)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly DataViewSchema schema;

        public Cursor(DataViewSchema schema) => this.schema = schema;

        public override DataViewSchema Schema => schema;

        public override long Position => -1;

        public override long Batch => 0;

        public override bool MoveNext() => false;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            => throw new InvalidOperationException("An empty data view has no rows to read.");

        public override ValueGetter<DataViewRowId> GetIdGetter()
            => throw new InvalidOperationException("An empty data view has no rows to read.");
    }
}

using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>Shared column helpers for the readers' data views: decoding encoded images and key types.</summary>
internal static class ImageColumns
{
    public static readonly ImageDataViewType ImageType = new();

    /// <summary>An MLImage column decoding the bytes <paramref name="bytes"/> returns; <paramref name="describe"/> names the source in errors.</summary>
    public static RowColumn<TRow> Encoded<TRow>(string name, Func<TRow, byte[]> bytes, Func<TRow, string> describe)
        => RowColumn<TRow>.Create(name, ImageType, (TRow row, ref MLImage value) =>
        {
            value?.Dispose();
            value = Decode(bytes(row), describe(row));
        });

    /// <summary>An MLImage column loading the file at the path <paramref name="path"/> returns.</summary>
    public static RowColumn<TRow> File<TRow>(string name, Func<TRow, string> path)
        => RowColumn<TRow>.Create(name, ImageType, (TRow row, ref MLImage value) =>
        {
            value?.Dispose();
            var file = path(row);
            try
            {
                value = MLImage.CreateFromFile(file);
            }
            catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
            {
                throw new InvalidDataException($"Image file '{file}' could not be decoded: {e.Message}", e);
            }
        });

    public static MLImage Decode(byte[] bytes, string source)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return MLImage.CreateFromStream(stream);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{source}: the {bytes.Length} image bytes could not be decoded: {e.Message}", e);
        }
    }

    /// <summary>A uint key column of <paramref name="count"/> values; <paramref name="index"/> is 0-based, the key is index + 1.</summary>
    public static RowColumn<TRow> Key<TRow>(string name, int count, Func<TRow, int> index, IReadOnlyList<string>? names = null)
    {
        DataViewSchema.Annotations? annotations = null;
        if (names != null)
        {
            var builder = new DataViewSchema.Annotations.Builder();
            var values = names.Select(n => n.AsMemory()).ToArray();
            builder.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, values.Length), (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) => dst = new VBuffer<ReadOnlyMemory<char>>(values.Length, values)));
            annotations = builder.ToAnnotations();
        }
        return RowColumn<TRow>.Create(name, new KeyDataViewType(typeof(uint), Math.Max(count, 1)), (TRow row, ref uint value) => value = (uint)(index(row) + 1), annotations);
    }

    public static RowColumn<TRow> Text<TRow>(string name, Func<TRow, string> text)
        => RowColumn<TRow>.Create(name, TextDataViewType.Instance, (TRow row, ref ReadOnlyMemory<char> value) => value = text(row).AsMemory());
}

using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

[TestClass]
public sealed class ImageFolderReaderTests
{
    private static void Save(string path, int width)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestImages.Png(width, 3, width));
    }

    [TestMethod]
    public void Entries_Folders_OrdinalKeysAndImageFilesOnly()
    {
        using var temp = new TempFolder();
        Save(temp.File("b/2.png"), 2);
        Save(temp.File("b/1.PNG"), 3);
        Save(temp.File("a/x.jpeg"), 4);
        Save(temp.File("B/y.jpg"), 5);
        File.WriteAllText(temp.File("a/notes.txt"), "not an image");
        File.WriteAllText(temp.File("root.png"), "ignored: not in an identity folder");
        var reader = new ImageFolderReader(temp.Path);
        CollectionAssert.AreEqual(new[] { "B", "a", "b" }, reader.Identities.ToArray());
        CollectionAssert.AreEqual(
            new[] { ("B", 0, "y.jpg"), ("a", 1, "x.jpeg"), ("b", 2, "1.PNG"), ("b", 2, "2.png") },
            reader.Entries.Select(e => (e.Identity, e.LabelIndex, Path.GetFileName(e.Path))).ToArray());
        Assert.AreEqual(temp.File("a/x.jpeg"), reader.Entries[1].Path);
    }

    [TestMethod]
    public void ToDataView_Folders_ImagesLabelsAndKeyNames()
    {
        using var temp = new TempFolder();
        Save(temp.File("id1/0.png"), 4);
        Save(temp.File("id0/0.png"), 2);
        Save(temp.File("id0/1.png"), 3);
        var view = new ImageFolderReader(temp.Path).ToDataView();
        Assert.AreEqual(3L, view.GetRowCount());
        var labelColumn = view.Schema["Label"];
        Assert.AreEqual(2UL, ((KeyDataViewType)labelColumn.Type).Count);
        VBuffer<ReadOnlyMemory<char>> names = default;
        labelColumn.GetKeyValues(ref names);
        CollectionAssert.AreEqual(new[] { "id0", "id1" }, names.DenseValues().Select(n => n.ToString()).ToArray());

        var rows = new List<(int Width, uint Label, string Identity)>();
        using var cursor = view.GetRowCursor(view.Schema);
        var image = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        var label = cursor.GetGetter<uint>(labelColumn);
        var identity = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Identity"]);
        MLImage value = null!;
        uint key = 0;
        ReadOnlyMemory<char> name = default;
        while (cursor.MoveNext())
        {
            image(ref value);
            label(ref key);
            identity(ref name);
            rows.Add((value.Width, key, name.ToString()));
        }
        value.Dispose();
        CollectionAssert.AreEqual(new[] { (2, 1u, "id0"), (3, 1u, "id0"), (4, 2u, "id1") }, rows);
    }

    [TestMethod]
    public void ToDataView_CorruptImage_ThrowsNamingFile()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("id0"));
        File.WriteAllBytes(temp.File("id0/bad.png"), [1, 2, 3]);
        var view = new ImageFolderReader(temp.Path).ToDataView();
        using var cursor = view.GetRowCursor(view.Schema);
        var image = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        Assert.IsTrue(cursor.MoveNext());
        MLImage value = null!;
        var e = Assert.ThrowsExactly<InvalidDataException>(() => image(ref value));
        Assert.Contains(temp.File("id0/bad.png"), e.Message);
    }

    [TestMethod]
    public void Constructor_MissingRoot_ThrowsDirectoryNotFound()
        => Assert.ThrowsExactly<DirectoryNotFoundException>(() => new ImageFolderReader("/no/such/folder/lh2face"));

    [TestMethod]
    public void ToDataView_MLNetImagePipeline_ResizesAndMapsKeysBack()
    {
        using var temp = new TempFolder();
        Save(temp.File("alice/0.png"), 4);
        Save(temp.File("bob/0.png"), 5);
        var ml = new MLContext(seed: 1);
        var data = new ImageFolderReader(temp.Path).ToDataView();
        var pipeline = ml.Transforms.ResizeImages("Small", 2, 2, "Image")
            .Append(ml.Transforms.Conversion.MapKeyToValue("Name", "Label"));
        var transformed = pipeline.Fit(data).Transform(data);
        var rows = new List<(int, string)>();
        using var cursor = transformed.GetRowCursor(transformed.Schema);
        var small = cursor.GetGetter<MLImage>(transformed.Schema["Small"]);
        var name = cursor.GetGetter<ReadOnlyMemory<char>>(transformed.Schema["Name"]);
        MLImage image = null!;
        ReadOnlyMemory<char> text = default;
        while (cursor.MoveNext())
        {
            small(ref image);
            name(ref text);
            rows.Add((image.Width, text.ToString()));
        }
        image.Dispose();
        CollectionAssert.AreEqual(new[] { (2, "alice"), (2, "bob") }, rows);
    }

    [TestMethod]
    public void ToDataView_IsRandomAccess_AndAnyEntryListCanBeViewed()
    {
        using var temp = new TempFolder();
        Save(temp.File("id0/0.png"), 2);
        Save(temp.File("id0/1.png"), 3);
        Save(temp.File("id1/0.png"), 4);
        var reader = new ImageFolderReader(temp.Path);
        var view = (IRandomAccessDataView)reader.ToDataView();
        Assert.AreEqual(3, view.RowCount);
        static List<(int Width, uint Label, string Path)> Rows(IDataView rows)
        {
            var result = new List<(int, uint, string)>();
            using var cursor = rows.GetRowCursor(rows.Schema);
            var image = cursor.GetGetter<MLImage>(rows.Schema["Image"]);
            var label = cursor.GetGetter<uint>(rows.Schema["Label"]);
            var path = cursor.GetGetter<ReadOnlyMemory<char>>(rows.Schema["Path"]);
            MLImage value = null!;
            uint l = 0;
            ReadOnlyMemory<char> p = default;
            while (cursor.MoveNext())
            {
                image(ref value);
                label(ref l);
                path(ref p);
                result.Add((value.Width, l, Path.GetFileName(Path.GetDirectoryName(p.ToString()))!));
            }
            value?.Dispose();
            return result;
        }
        CollectionAssert.AreEqual(new[] { (4, 2u, "id1"), (2, 1u, "id0") }, Rows(view.SelectRows([2, 0])));

        // A filtered list (one image left out) under other identity names.
        var kept = new[] { reader.Entries[2], reader.Entries[1] };
        var filtered = ImageFolderReader.ToDataView(kept, ["first", "second"]);
        Assert.AreEqual(2, filtered.RowCount);
        CollectionAssert.AreEqual(new[] { (4, 2u, "id1"), (3, 1u, "id0") }, Rows(filtered));
        VBuffer<ReadOnlyMemory<char>> names = default;
        filtered.Schema["Label"].GetKeyValues(ref names);
        CollectionAssert.AreEqual(new[] { "first", "second" }, names.DenseValues().Select(n => n.ToString()).ToArray());
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageFolderReader.ToDataView(kept, ["only"]));
        Assert.Contains("has label index 1; the 1 identities allow 0 to 0.", e.Message);
    }
}

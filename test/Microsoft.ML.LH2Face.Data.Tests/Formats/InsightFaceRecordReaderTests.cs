using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

[TestClass]
public sealed class InsightFaceRecordReaderTests
{
    private const uint Magic = 0xced7230a;

    // IRHeader {flag, label, id, id2} followed by flag labels.
    private static Bytes Header(uint flag, float label, ulong id, params float[] labels)
    {
        var b = new Bytes().U32(flag).F32(label).U64(id).U64(0);
        foreach (var l in labels)
        {
            b.F32(l);
        }
        return b;
    }

    private static void AppendWhole(Bytes rec, byte[] payload)
    {
        rec.U32(Magic).U32((uint)payload.Length).Raw(payload);
        rec.U8(new int[(4 - payload.Length % 4) % 4]);
    }

    /// <summary>
    /// A pack built byte by byte: record 0 = [4, 6]; image 1 label 0; image 2 flag 2 labels [1, 7] (label field 99 ignored);
    /// image 3 label 1 with the magic inside its image bytes (split in two parts); identity records 4, 5. No property file.
    /// </summary>
    private static (string Folder, Dictionary<long, long> Offsets) HandBuiltPack(TempFolder temp)
    {
        var rec = new Bytes();
        var offsets = new Dictionary<long, long>();
        offsets[0] = rec.Length;
        AppendWhole(rec, Header(2, 0, 0, 4, 6).ToArray());
        offsets[1] = rec.Length;
        AppendWhole(rec, Header(0, 0, 1).U8(0xAA, 0xBB, 0xCC).ToArray());
        offsets[2] = rec.Length;
        AppendWhole(rec, Header(2, 99, 2, 1, 7).U8(0xDD).ToArray());
        // Key 3: payload = header (24) + image [1 2 3 4 MAGIC 5 6 7]; the magic sits at payload byte 28 (aligned).
        offsets[3] = rec.Length;
        rec.U32(Magic).U32((1u << 29) | 28).Raw(Header(0, 1, 3).U8(1, 2, 3, 4).ToArray());
        rec.U32(Magic).U32((3u << 29) | 3).U8(5, 6, 7, 0);
        offsets[4] = rec.Length;
        AppendWhole(rec, Header(2, 0, 0, 1, 2).ToArray());
        offsets[5] = rec.Length;
        AppendWhole(rec, Header(2, 0, 0, 2, 4).ToArray());
        var folder = Directory.CreateDirectory(temp.File("pack")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "train.rec"), rec.ToArray());
        File.WriteAllText(Path.Combine(folder, "train.idx"), string.Concat(offsets.Select(kv => $"{kv.Key}\t{kv.Value}\n")));
        return (folder, offsets);
    }

    [TestMethod]
    public void Open_HandBuiltPackWithHeaderRecord_ImagesLabelsAndSplitRecord()
    {
        using var temp = new TempFolder();
        var (folder, _) = HandBuiltPack(temp);
        using var reader = InsightFaceRecordReader.Open(folder);
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, reader.ImageKeys.ToArray());
        Assert.AreEqual(2, reader.NumClasses, "b - a identity records without a property file");
        var records = reader.Enumerate().ToList();
        CollectionAssert.AreEqual(new[] { 0, 1, 1 }, records.Select(r => r.Label).ToArray());
        CollectionAssert.AreEqual(new byte[] { 0xAA, 0xBB, 0xCC }, records[0].Image);
        Assert.AreEqual(2u, records[1].Header.Flag);
        Assert.AreEqual(99f, records[1].Header.Label);
        CollectionAssert.AreEqual(new[] { 1f, 7f }, records[1].Header.Labels);
        CollectionAssert.AreEqual(new byte[] { 0xDD }, records[1].Image);
        CollectionAssert.AreEqual(new Bytes().U8(1, 2, 3, 4).U32(Magic).U8(5, 6, 7).ToArray(), records[2].Image);
        Assert.AreEqual(3ul, records[2].Header.Id);
    }

    [TestMethod]
    public void Open_RecordZeroWithFlagZero_EveryKeyIsAnImageAndClassesScanned()
    {
        using var temp = new TempFolder();
        var rec = new Bytes();
        AppendWhole(rec, Header(0, 2, 0).U8(1).ToArray());
        AppendWhole(rec, Header(0, 0, 1).U8(2).ToArray());
        File.WriteAllBytes(temp.File("train.rec"), rec.ToArray());
        File.WriteAllText(temp.File("train.idx"), "0\t0\n1\t36\n");
        using var reader = InsightFaceRecordReader.Open(temp.File("train.rec"));
        CollectionAssert.AreEqual(new long[] { 0, 1 }, reader.ImageKeys.ToArray());
        Assert.AreEqual(3, reader.NumClasses, "largest label + 1");
        CollectionAssert.AreEqual(new[] { 2, 0 }, reader.Enumerate().Select(r => r.Label).ToArray());
    }

    [TestMethod]
    public void Open_PropertyFile_GivesClassCount()
    {
        using var temp = new TempFolder();
        var (folder, _) = HandBuiltPack(temp);
        File.WriteAllText(Path.Combine(folder, "property"), "10,112,112\n");
        using var reader = InsightFaceRecordReader.Open(folder);
        Assert.AreEqual(10, reader.NumClasses);
    }

    [TestMethod]
    public void Read_TruncatedPack_ThrowsNamingFileKeyAndOffset()
    {
        using var temp = new TempFolder();
        var (folder, offsets) = HandBuiltPack(temp);
        var rec = Path.Combine(folder, "train.rec");
        File.WriteAllBytes(rec, File.ReadAllBytes(rec)[..(int)(offsets[3] + 20)]);
        using var reader = InsightFaceRecordReader.Open(folder);
        Assert.AreEqual(2, reader.Enumerate().Take(2).Count());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => reader.Enumerate().ToList());
        Assert.Contains(rec, e.Message);
        Assert.Contains($"truncated at offset {offsets[3] + 8}", e.Message);
    }

    [TestMethod]
    public void Enumerate_SkipCorrupt_SkipsAndCountsBadRecords()
    {
        using var temp = new TempFolder();
        var rec = new Bytes();
        AppendWhole(rec, Header(2, 0, 0, 5, 7).ToArray());            // 0 at 0: 32 bytes + 8
        AppendWhole(rec, Header(0, 0, 1).U8(1).ToArray());            // 1 at 40: good
        AppendWhole(rec, Header(0, 1.5f, 2).U8(2).ToArray());         // 2 at 76: non-integral label
        rec.U32(0x12345678).U32(4).U8(0, 0, 0, 0);                    // 3 at 112: bad magic
        AppendWhole(rec, Header(0, 9, 4).U8(3).ToArray());            // 4 at 124: label >= classes
        File.WriteAllBytes(temp.File("train.rec"), rec.ToArray());
        File.WriteAllText(temp.File("train.idx"), "0\t0\n1\t40\n2\t76\n3\t112\n4\t124\n");
        File.WriteAllText(temp.File("property"), "2,112,112");

        using (var strict = InsightFaceRecordReader.Open(temp.Path))
        {
            var e = Assert.ThrowsExactly<InvalidDataException>(() => strict.Enumerate().ToList());
            Assert.Contains("record 2 at offset 76: label 1.5 is not a class index in [0, 2)", e.Message);
        }
        using var lenient = InsightFaceRecordReader.Open(temp.Path, skipCorrupt: true);
        CollectionAssert.AreEqual(new long[] { 1 }, lenient.Enumerate().Select(r => r.Key).ToArray());
        Assert.AreEqual(3, lenient.CorruptCount);
        CollectionAssert.AreEquivalent(new long[] { 2, 3, 4 }, lenient.CorruptRecords.Keys.ToArray());
        lenient.Enumerate().ToList();
        Assert.AreEqual(3, lenient.CorruptCount, "a record is counted once however often it is read");
        var view = lenient.ToDataView();
        Assert.IsNull(view.GetRowCount(), "unknown until the corrupt records are found");
        Assert.IsNotInstanceOfType<IRandomAccessDataView>(view, "positions are unknown until the corrupt records are found");
        var keys = new List<long>();
        using var cursor = view.GetRowCursor([view.Schema["Key"]]);
        var key = cursor.GetGetter<long>(view.Schema["Key"]);
        long value = 0;
        while (cursor.MoveNext())
        {
            key(ref value);
            keys.Add(value);
        }
        CollectionAssert.AreEqual(new long[] { 1 }, keys);
    }

    [TestMethod]
    public void Writer_RoundTrip_ReaderAndDataViewGiveImagesAndKeys()
    {
        using var temp = new TempFolder();
        var images = new[] { TestImages.Png(5, 4, 1), TestImages.Png(6, 4, 2), TestImages.Png(7, 4, 3), TestImages.Png(8, 4, 4) };
        var labels = new[] { 0, 0, 1, 2 };
        using (var writer = new InsightFaceRecordWriter(temp.Path, imageSize: 8))
        {
            for (int i = 0; i < images.Length; i++)
            {
                Assert.AreEqual(i + 1, writer.WriteImage(labels[i], images[i]));
            }
            Assert.ThrowsExactly<ArgumentException>(() => writer.WriteImage(1, images[0]));
        }
        Assert.AreEqual("3,8,8", File.ReadAllText(temp.File("property")));
        using var reader = InsightFaceRecordReader.Open(temp.Path);
        Assert.AreEqual(3, reader.NumClasses);
        var records = reader.Enumerate().ToList();
        CollectionAssert.AreEqual(labels, records.Select(r => r.Label).ToArray());
        for (int i = 0; i < images.Length; i++)
        {
            CollectionAssert.AreEqual(images[i], records[i].Image);
        }

        using var raw = RecordIoReader.Open(temp.File("train.rec"), temp.File("train.idx"));
        var header0 = InsightFaceRecordHeader.Unpack(raw.Read(0), "record 0", out _);
        CollectionAssert.AreEqual(new[] { 5f, 8f }, header0.Labels, "images 1..4, identity records 5..7");
        CollectionAssert.AreEqual(new[] { 1f, 3f }, InsightFaceRecordHeader.Unpack(raw.Read(5), "record 5", out _).Labels);
        CollectionAssert.AreEqual(new[] { 4f, 5f }, InsightFaceRecordHeader.Unpack(raw.Read(7), "record 7", out _).Labels);

        var view = reader.ToDataView();
        Assert.AreEqual(4L, view.GetRowCount());
        Assert.AreEqual(3UL, ((KeyDataViewType)view.Schema["Label"].Type).Count);
        var widths = new List<int>();
        var keys = new List<uint>();
        using (var cursor = view.GetRowCursor(view.Schema))
        {
            var image = cursor.GetGetter<MLImage>(view.Schema["Image"]);
            var label = cursor.GetGetter<uint>(view.Schema["Label"]);
            MLImage value = null!;
            uint key = 0;
            while (cursor.MoveNext())
            {
                image(ref value);
                label(ref key);
                widths.Add(value.Width);
                keys.Add(key);
            }
            value.Dispose();
        }
        CollectionAssert.AreEqual(new[] { 5, 6, 7, 8 }, widths);
        CollectionAssert.AreEqual(new uint[] { 1, 1, 2, 3 }, keys);
    }

    [TestMethod]
    public void ToDataView_SelectRows_ReadsThoseRecordsInThatOrderFromSeveralThreads()
    {
        using var temp = new TempFolder();
        var images = Enumerable.Range(0, 6).Select(i => TestImages.Png(3 + i, 4, i)).ToArray();
        using (var writer = new InsightFaceRecordWriter(temp.Path, imageSize: 8))
        {
            for (int i = 0; i < images.Length; i++)
                writer.WriteImage(i / 2, images[i]);
        }
        using var reader = InsightFaceRecordReader.Open(temp.Path);
        var view = (IRandomAccessDataView)reader.ToDataView();
        Assert.AreEqual(6, view.RowCount);
        static List<(int Width, uint Label, long Key)> Rows(IDataView rows)
        {
            var result = new List<(int, uint, long)>();
            using var cursor = rows.GetRowCursor(rows.Schema);
            var image = cursor.GetGetter<MLImage>(rows.Schema["Image"]);
            var label = cursor.GetGetter<uint>(rows.Schema["Label"]);
            var key = cursor.GetGetter<long>(rows.Schema["Key"]);
            MLImage value = null!;
            uint l = 0;
            long k = 0;
            while (cursor.MoveNext())
            {
                image(ref value);
                label(ref l);
                key(ref k);
                result.Add((value.Width, l, k));
            }
            value?.Dispose();
            return result;
        }
        var expected = new[] { (8, 3u, 6L), (3, 1u, 1L), (8, 3u, 6L), (5, 2u, 3L) };
        var selected = view.SelectRows([5, 0, 5, 2]);
        Assert.AreEqual(4L, selected.GetRowCount());
        CollectionAssert.AreEqual(expected, Rows(selected));
        var parallel = new List<(int, uint, long)>[8];
        Parallel.For(0, parallel.Length, i => parallel[i] = Rows(view.SelectRows([5, 0, 5, 2])));
        foreach (var rows in parallel)
            CollectionAssert.AreEqual(expected, rows);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => view.SelectRows([1, 6]));
        Assert.Contains("Row positions run from 0 to 5.", e.Message);
    }
}

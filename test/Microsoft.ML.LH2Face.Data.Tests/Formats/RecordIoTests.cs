using Microsoft.ML.LH2Face.Data.Formats;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

[TestClass]
public sealed class RecordIoTests
{
    private const uint Magic = 0xced7230a;

    [TestMethod]
    public void Write_DataWithoutMagic_OneWholeRecordPaddedToFour()
    {
        using var temp = new TempFolder();
        using (var writer = new RecordIoWriter(temp.File("a.rec"), temp.File("a.idx")))
        {
            Assert.AreEqual(0, writer.Write(7, [1, 2, 3, 4, 5]));
            Assert.AreEqual(16, writer.Write(9, [6]));
            Assert.AreEqual(0, writer.SplitCount);
        }
        var expected = new Bytes()
            .U32(Magic).U32(5).U8(1, 2, 3, 4, 5, 0, 0, 0)
            .U32(Magic).U32(1).U8(6, 0, 0, 0).ToArray();
        CollectionAssert.AreEqual(expected, File.ReadAllBytes(temp.File("a.rec")));
        Assert.AreEqual("7\t0\n9\t16\n", File.ReadAllText(temp.File("a.idx")));
    }

    [TestMethod]
    public void Write_MagicAtAlignedPositions_SplitsLikeDmlc()
    {
        using var temp = new TempFolder();
        // Magic at 4 (aligned) and 8 (aligned, right after the first), and at 14 (unaligned: kept as data).
        var data = new Bytes().U8(1, 2, 3, 4).U32(Magic).U32(Magic).U8(9, 9).U32(Magic).U8(7).ToArray();
        using (var writer = new RecordIoWriter(temp.File("a.rec"), temp.File("a.idx")))
        {
            writer.Write(0, data);
            Assert.AreEqual(2, writer.SplitCount);
        }
        var expected = new Bytes()
            .U32(Magic).U32((1u << 29) | 4).U8(1, 2, 3, 4)
            .U32(Magic).U32(2u << 29)
            .U32(Magic).U32((3u << 29) | 7).U8(9, 9).U32(Magic).U8(7, 0).ToArray();
        CollectionAssert.AreEqual(expected, File.ReadAllBytes(temp.File("a.rec")));
        using var reader = RecordIoReader.Open(temp.File("a.rec"), temp.File("a.idx"));
        CollectionAssert.AreEqual(data, reader.Read(0));
    }

    [TestMethod]
    public void Read_HandBuiltSplitRecord_JoinsPartsWithMagic()
    {
        using var temp = new TempFolder();
        var rec = new Bytes()
            .U32(Magic).U32(3).U8(10, 11, 12, 0)                 // key 5 at 0: whole, 3 bytes + 1 pad
            .U32(Magic).U32((1u << 29) | 8).U8(1, 2, 3, 4, 5, 6, 7, 8) // key 6 at 12: first part
            .U32(Magic).U32((2u << 29) | 4).U8(9, 9, 9, 9)       // middle part
            .U32(Magic).U32((3u << 29) | 2).U8(20, 21, 0, 0)     // last part, padded
            .ToArray();
        File.WriteAllBytes(temp.File("x.rec"), rec);
        File.WriteAllText(temp.File("x.idx"), "6\t12\n5\t0\n");
        using var reader = RecordIoReader.Open(temp.File("x.rec"), temp.File("x.idx"));
        CollectionAssert.AreEqual(new long[] { 5, 6 }, reader.Keys.ToArray());
        CollectionAssert.AreEqual(new byte[] { 10, 11, 12 }, reader.Read(5));
        var joined = new Bytes().U8(1, 2, 3, 4, 5, 6, 7, 8).U32(Magic).U8(9, 9, 9, 9).U32(Magic).U8(20, 21).ToArray();
        CollectionAssert.AreEqual(joined, reader.Read(6));
    }

    [TestMethod]
    public void Read_TruncatedData_ThrowsNamingFileAndOffset()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("t.rec"), new Bytes().U32(Magic).U32(4).U8(1, 2, 3, 4).U32(Magic).U32(40).U8(1, 2).ToArray());
        File.WriteAllText(temp.File("t.idx"), "0\t0\n1\t12\n");
        using var reader = RecordIoReader.Open(temp.File("t.rec"), temp.File("t.idx"));
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 4 }, reader.Read(0));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => reader.Read(1));
        Assert.Contains(temp.File("t.rec"), e.Message);
        Assert.Contains("truncated at offset 20", e.Message);
    }

    [TestMethod]
    public void Read_BadMagicOrPartOrder_ThrowsNamingOffset()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("b.rec"), new Bytes()
            .U32(0xdeadbeef).U32(0)
            .U32(Magic).U32((2u << 29) | 0)
            .U32(Magic).U32((1u << 29) | 0).U32(Magic).U32(0).ToArray());
        File.WriteAllText(temp.File("b.idx"), "0\t0\n1\t8\n2\t16\n");
        using var reader = RecordIoReader.Open(temp.File("b.rec"), temp.File("b.idx"));
        Assert.Contains("offset 0: expected RecordIO magic", Assert.ThrowsExactly<InvalidDataException>(() => reader.Read(0)).Message);
        Assert.Contains("offset 8: part flag 2 cannot start a record", Assert.ThrowsExactly<InvalidDataException>(() => reader.Read(1)).Message);
        Assert.Contains("offset 24: part flag 0 cannot continue", Assert.ThrowsExactly<InvalidDataException>(() => reader.Read(2)).Message);
    }

    [TestMethod]
    public void Open_MalformedIndexLine_ThrowsNamingLine()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("m.rec"), new Bytes().U32(Magic).U32(0).ToArray());
        File.WriteAllText(temp.File("m.idx"), "0\t0\n1 8\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => RecordIoReader.Open(temp.File("m.rec"), temp.File("m.idx")));
        Assert.Contains($"'{temp.File("m.idx")}' line 2", e.Message);
    }
}

namespace LH2Face.Build.Tests;

/// <summary>Read/MarkWeak on a hand-built ELF64, and the errors malformed files give.</summary>
[TestClass]
public sealed class ElfVersionNeedSyntheticTests
{
    [TestMethod]
    public void Read_SyntheticElf_ListsBothVernauxWithExactFields()
    {
        using var dir = new TempDirectory();
        var elf = new SyntheticElf();
        string path = dir.Write("synthetic.so", elf.Bytes);

        IReadOnlyList<ElfVersionNeed.VersionNeed> needs = ElfVersionNeed.Read(path);

        Assert.HasCount(2, needs);
        Assert.AreEqual(SyntheticElf.Library, needs[0].Library);
        Assert.AreEqual(SyntheticElf.Version30, needs[0].Version);
        Assert.AreEqual((ushort)0, needs[0].Flags);
        Assert.AreEqual((ushort)2, needs[0].Other);
        Assert.AreEqual(SyntheticElf.ElfHash(SyntheticElf.Version30), needs[0].Hash);
        Assert.AreEqual(0x0297f840u, SyntheticElf.ElfHash(SyntheticElf.Version30));
        Assert.AreEqual(elf.Vernaux30Offset + 4L, needs[0].FlagsOffset);
        Assert.AreEqual(SyntheticElf.Library, needs[1].Library);
        Assert.AreEqual(SyntheticElf.Version32, needs[1].Version);
        Assert.AreEqual((ushort)0, needs[1].Flags);
        Assert.AreEqual((ushort)3, needs[1].Other);
        Assert.AreEqual(elf.Vernaux32Offset + 4L, needs[1].FlagsOffset);
    }

    [TestMethod]
    public void MarkWeak_SyntheticElf_SetsOnlyThatVersionsWeakFlag()
    {
        using var dir = new TempDirectory();
        var elf = new SyntheticElf();
        string path = dir.Write("synthetic.so", elf.Bytes);

        Assert.AreEqual(ElfVersionNeed.PatchResult.Patched, ElfVersionNeed.MarkWeak(path, SyntheticElf.Version32));

        byte[] expected = (byte[])elf.Bytes.Clone();
        expected[elf.Vernaux32Offset + 4] = 0x02;
        CollectionAssert.AreEqual(expected, File.ReadAllBytes(path));
        IReadOnlyList<ElfVersionNeed.VersionNeed> needs = ElfVersionNeed.Read(path);
        Assert.AreEqual((ushort)0, needs[0].Flags);
        Assert.AreEqual((ushort)2, needs[1].Flags);
        Assert.IsTrue(needs[1].IsWeak);
        Assert.AreEqual(ElfVersionNeed.PatchResult.AlreadyWeak, ElfVersionNeed.MarkWeak(path, SyntheticElf.Version32));
        CollectionAssert.AreEqual(expected, File.ReadAllBytes(path));
    }

    [TestMethod]
    public void MarkWeak_VersionNotRequired_ReturnsNotNeededAndLeavesFile()
    {
        using var dir = new TempDirectory();
        var elf = new SyntheticElf();
        string path = dir.Write("synthetic.so", elf.Bytes);
        DateTime before = File.GetLastWriteTimeUtc(path);

        Assert.AreEqual(ElfVersionNeed.PatchResult.NotNeeded, ElfVersionNeed.MarkWeak(path, "GLIBCXX_9.9.99"));

        CollectionAssert.AreEqual(elf.Bytes, File.ReadAllBytes(path));
        Assert.AreEqual(before, File.GetLastWriteTimeUtc(path));
    }

    [TestMethod]
    public void Read_NoSectionHeaders_ReturnsEmpty()
    {
        using var dir = new TempDirectory();
        var elf = new SyntheticElf();
        elf.U64(0x28, 0);
        string path = dir.Write("nosections.so", elf.Bytes);

        Assert.IsEmpty(ElfVersionNeed.Read(path));
        Assert.AreEqual(ElfVersionNeed.PatchResult.NotNeeded, ElfVersionNeed.MarkWeak(path, SyntheticElf.Version32));
    }

    [TestMethod]
    public void Read_EmptyFile_ThrowsNamingFile() =>
        AssertInvalid(Array.Empty<byte>(), "truncated: 0 bytes");

    [TestMethod]
    public void Read_WrongMagic_ThrowsNamingFile()
    {
        byte[] bytes = new SyntheticElf().Bytes;
        bytes[1] = (byte)'X';
        AssertInvalid(bytes, "bad magic");
    }

    [TestMethod]
    public void Read_Elf32Class_ThrowsNamingFile()
    {
        byte[] bytes = new SyntheticElf().Bytes;
        bytes[4] = 1;
        AssertInvalid(bytes, "EI_CLASS 1 is not ELFCLASS64");
    }

    [TestMethod]
    public void Read_BigEndian_ThrowsNamingFile()
    {
        byte[] bytes = new SyntheticElf().Bytes;
        bytes[5] = 2;
        AssertInvalid(bytes, "EI_DATA 2 is not ELFDATA2LSB");
    }

    [TestMethod]
    public void Read_TruncatedInsideHeader_ThrowsNamingFile() =>
        AssertInvalid(new SyntheticElf().Bytes[..40], "ELF64 header (64 bytes) lies outside the file (40 bytes)");

    [TestMethod]
    public void Read_TruncatedAfterHeader_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        AssertInvalid(elf.Bytes[..64], "section header table (e_shoff)", elf.SectionHeaderOffset);
    }

    [TestMethod]
    public void Read_SectionHeaderOffsetBeyondEnd_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U64(0x28, 0x7fff0000);
        AssertInvalid(elf.Bytes, "section header table (e_shoff)", 0x7fff0000);
    }

    [TestMethod]
    public void Read_SectionTableRunsPastEnd_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U16(0x3c, 5);
        AssertInvalid(elf.Bytes, "section header table of 5 entries", elf.SectionHeaderOffset);
    }

    [TestMethod]
    public void Read_VersionRLinkOutOfRange_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U32(elf.SectionHeader(2) + 40, 99);
        AssertInvalid(elf.Bytes, ".gnu.version_r sh_link 99 is not a section index (4 sections)", elf.SectionHeader(2));
    }

    [TestMethod]
    public void Read_VersionRLinkNotStringTable_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U32(elf.SectionHeader(2) + 40, 2);
        AssertInvalid(elf.Bytes, "not a string table", elf.SectionHeader(2));
    }

    [TestMethod]
    public void Read_VnNextOutsideSection_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U32(elf.VerneedOffset + 12, 0x1000);
        AssertInvalid(elf.Bytes, "vn_next points outside .gnu.version_r", elf.VerneedOffset + 12);
    }

    [TestMethod]
    public void Read_VnaNextOutsideSection_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U32(elf.Vernaux30Offset + 12, 0x1000);
        AssertInvalid(elf.Bytes, "Vernaux entry of libstdc++.so.6 in .gnu.version_r (16 bytes) lies outside its section", elf.Vernaux30Offset + 0x1000);
    }

    [TestMethod]
    public void Read_VnaNameOutsideStringTable_ThrowsNamingFile()
    {
        var elf = new SyntheticElf();
        elf.U32(elf.Vernaux32Offset + 8, 0x5000);
        AssertInvalid(elf.Bytes, "vna_name string index 20480 is outside its string table");
    }

    [TestMethod]
    public void MarkWeak_MalformedFile_ThrowsAndLeavesFile()
    {
        using var dir = new TempDirectory();
        var elf = new SyntheticElf();
        elf.U32(elf.VerneedOffset + 12, 0x1000);
        string path = dir.Write("bad.so", elf.Bytes);

        Assert.ThrowsExactly<InvalidDataException>(() => ElfVersionNeed.MarkWeak(path, SyntheticElf.Version32));

        CollectionAssert.AreEqual(elf.Bytes, File.ReadAllBytes(path));
        Assert.HasCount(1, Directory.GetFiles(dir.Path));
    }

    private static void AssertInvalid(byte[] bytes, string expectedFragment, long? expectedOffset = null)
    {
        using var dir = new TempDirectory();
        string path = dir.Write("malformed.so", bytes);

        InvalidDataException e = Assert.ThrowsExactly<InvalidDataException>(() => ElfVersionNeed.Read(path));

        StringAssert.StartsWith(e.Message, path + ": ");
        StringAssert.Contains(e.Message, expectedFragment);
        if (expectedOffset is long offset)
        {
            StringAssert.EndsWith(e.Message, "(offset 0x" + offset.ToString("x") + ")");
        }
    }
}

using System.Buffers.Binary;
using System.Text;

namespace LH2Face.Build.Tests;

/// <summary>
/// Builds a minimal ELF64 little-endian file byte by byte: an ELF header, a .dynstr, a
/// .gnu.version_r with one Verneed (libstdc++.so.6) holding two Vernaux (GLIBCXX_3.4.30,
/// GLIBCXX_3.4.32), a .shstrtab and the section header table. Offsets are exposed so that
/// tests can corrupt precise fields.
/// </summary>
internal sealed class SyntheticElf
{
    public const int DynstrOffset = 64;
    public const string Library = "libstdc++.so.6";
    public const string Version30 = "GLIBCXX_3.4.30";
    public const string Version32 = "GLIBCXX_3.4.32";

    public SyntheticElf()
    {
        byte[] dynstr = Strings(out int[] dynIndex, Library, Version30, Version32);
        byte[] shstr = Strings(out int[] shIndex, ".shstrtab", ".dynstr", ".gnu.version_r");

        VerneedOffset = Align(DynstrOffset + dynstr.Length, 8);
        int verneedSize = 16 + (2 * 16);
        int shstrOffset = VerneedOffset + verneedSize;
        SectionHeaderOffset = Align(shstrOffset + shstr.Length, 8);
        Bytes = new byte[SectionHeaderOffset + (4 * 64)];

        // ELF header.
        Bytes[0] = 0x7f;
        Bytes[1] = (byte)'E';
        Bytes[2] = (byte)'L';
        Bytes[3] = (byte)'F';
        Bytes[4] = 2; // ELFCLASS64
        Bytes[5] = 1; // ELFDATA2LSB
        Bytes[6] = 1; // EV_CURRENT
        U16(0x10, 3); // ET_DYN
        U16(0x12, 62); // EM_X86_64
        U32(0x14, 1);
        U64(0x28, (ulong)SectionHeaderOffset);
        U16(0x34, 64);
        U16(0x3a, 64);
        U16(0x3c, 4);
        U16(0x3e, 3);

        dynstr.CopyTo(Bytes, DynstrOffset);
        shstr.CopyTo(Bytes, shstrOffset);

        // Verneed: version 1, 2 aux entries, file name, first aux right after, last entry.
        U16(VerneedOffset, 1);
        U16(VerneedOffset + 2, 2);
        U32(VerneedOffset + 4, (uint)dynIndex[0]);
        U32(VerneedOffset + 8, 16);
        U32(VerneedOffset + 12, 0);
        Vernaux(Vernaux30Offset, dynIndex[1], other: 2, next: 16);
        Vernaux(Vernaux32Offset, dynIndex[2], other: 3, next: 0);

        // Section headers: [0] null, [1] .dynstr, [2] .gnu.version_r -> 1, [3] .shstrtab.
        Section(1, shIndex[1], type: 3, DynstrOffset, dynstr.Length, link: 0, info: 0, align: 1);
        Section(2, shIndex[2], type: 0x6ffffffe, VerneedOffset, verneedSize, link: 1, info: 1, align: 8);
        Section(3, shIndex[0], type: 3, shstrOffset, shstr.Length, link: 0, info: 0, align: 1);
    }

    public byte[] Bytes { get; }

    public int VerneedOffset { get; }

    public int Vernaux30Offset => VerneedOffset + 16;

    public int Vernaux32Offset => VerneedOffset + 32;

    public int SectionHeaderOffset { get; }

    public int SectionHeader(int index) => SectionHeaderOffset + (index * 64);

    public void U16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(offset), value);

    public void U32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(offset), value);

    public void U64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(offset), value);

    /// <summary>The System V ELF hash of a name, as stored in vna_hash.</summary>
    public static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (byte c in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0)
            {
                h ^= g >> 24;
            }

            h &= ~g;
        }

        return h;
    }

    private void Vernaux(int offset, int name, ushort other, uint next)
    {
        U32(offset, ElfHash(Encoding.ASCII.GetString(Bytes, DynstrOffset + name, Bytes.AsSpan(DynstrOffset + name).IndexOf((byte)0))));
        U16(offset + 4, 0);
        U16(offset + 6, other);
        U32(offset + 8, (uint)name);
        U32(offset + 12, next);
    }

    private void Section(int index, int name, uint type, int offset, int size, uint link, uint info, ulong align)
    {
        int header = SectionHeader(index);
        U32(header, (uint)name);
        U32(header + 4, type);
        U64(header + 8, 2); // SHF_ALLOC
        U64(header + 16, (ulong)offset);
        U64(header + 24, (ulong)offset);
        U64(header + 32, (ulong)size);
        U32(header + 40, link);
        U32(header + 44, info);
        U64(header + 48, align);
    }

    private static byte[] Strings(out int[] indices, params string[] names)
    {
        var bytes = new List<byte> { 0 };
        indices = new int[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            indices[i] = bytes.Count;
            bytes.AddRange(Encoding.ASCII.GetBytes(names[i]));
            bytes.Add(0);
        }

        return bytes.ToArray();
    }

    private static int Align(int value, int alignment) => (value + alignment - 1) / alignment * alignment;
}

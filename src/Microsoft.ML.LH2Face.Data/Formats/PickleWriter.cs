using System.Buffers.Binary;
using System.Text;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>Writes a pickle of (bins, issame) as Python's pickle module would (protocol 2, 3 or 4, no framing).</summary>
internal static class PickleWriter
{
    private const int Batch = 1000; // Python's pickle appends list items in batches of 1000.

    public static void WriteBinsAndIsSame(Stream stream, IReadOnlyList<byte[]> bins, IReadOnlyList<bool> issame, int protocol)
    {
        if (protocol is < 2 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Protocol must be 2, 3 or 4.");
        }
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write((byte)0x80);
        writer.Write((byte)protocol);
        uint memo = 0;
        uint? encodeMemo = null, latin1Memo = null;
        WriteList(writer, bins, bin =>
        {
            if (protocol == 2)
            {
                if (encodeMemo is uint e)
                {
                    Get(writer, e);
                }
                else
                {
                    writer.Write((byte)0x63);
                    writer.Write("_codecs\nencode\n"u8);
                    encodeMemo = memo;
                    Put(writer, memo++);
                }
                BinUnicode(writer, Encoding.UTF8.GetBytes(Encoding.Latin1.GetString(bin)));
                if (latin1Memo is uint l)
                {
                    Get(writer, l);
                }
                else
                {
                    BinUnicode(writer, "latin1"u8);
                    latin1Memo = memo;
                    Put(writer, memo++);
                }
                writer.Write((byte)0x86); // TUPLE2
                writer.Write((byte)0x52); // REDUCE
            }
            else if (bin.Length < 256)
            {
                writer.Write((byte)0x43); // SHORT_BINBYTES
                writer.Write((byte)bin.Length);
                writer.Write(bin);
            }
            else
            {
                writer.Write((byte)0x42); // BINBYTES
                writer.Write((uint)bin.Length);
                writer.Write(bin);
            }
        });
        WriteList(writer, issame, same => writer.Write(same ? (byte)0x88 : (byte)0x89));
        writer.Write((byte)0x86); // TUPLE2
        writer.Write((byte)0x2e); // STOP
    }

    private static void WriteList<T>(BinaryWriter writer, IReadOnlyList<T> items, Action<T> write)
    {
        writer.Write((byte)0x5d); // EMPTY_LIST
        for (int start = 0; start < items.Count; start += Batch)
        {
            writer.Write((byte)0x28); // MARK
            for (int i = start; i < Math.Min(items.Count, start + Batch); i++)
            {
                write(items[i]);
            }
            writer.Write((byte)0x65); // APPENDS
        }
    }

    private static void BinUnicode(BinaryWriter writer, ReadOnlySpan<byte> utf8)
    {
        writer.Write((byte)0x58); // BINUNICODE
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        writer.Write(length);
        writer.Write(utf8);
    }

    private static void Put(BinaryWriter writer, uint index)
    {
        writer.Write((byte)0x72); // LONG_BINPUT
        writer.Write(index);
    }

    private static void Get(BinaryWriter writer, uint index)
    {
        writer.Write((byte)0x6a); // LONG_BINGET
        writer.Write(index);
    }
}

using System.Buffers.Binary;
using System.Globalization;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// Writes an MXNet/dmlc indexed RecordIO pair (.rec + .idx) exactly as dmlc-core's RecordIOWriter and
/// MXIndexedRecordIO do: each record is magic 0xced7230a, lrec = cflag &lt;&lt; 29 | length, the data and zero
/// padding to 4 bytes; wherever the magic occurs in the data at a 4-byte-aligned position the record is split
/// there (the magic dropped) into parts with cflag 1 (first), 2 (middle) and 3 (last). The .idx gets one
/// "key\toffset" line per record.
/// </summary>
public sealed class RecordIoWriter : IDisposable
{
    /// <summary>The RecordIO magic number.</summary>
    public const uint Magic = 0xced7230a;

    /// <summary>Largest length one part can declare (29 bits).</summary>
    public const int MaxPartLength = (1 << 29) - 1;

    private readonly FileStream _rec;
    private readonly StreamWriter _idx;
    private readonly HashSet<long> _keys = [];

    /// <summary>Creates (or overwrites) <paramref name="recPath"/> and <paramref name="idxPath"/>.</summary>
    public RecordIoWriter(string recPath, string idxPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(recPath);
        ArgumentException.ThrowIfNullOrEmpty(idxPath);
        RecPath = recPath;
        _rec = new FileStream(recPath, FileMode.Create, FileAccess.Write, FileShare.Read);
        _idx = new StreamWriter(idxPath, append: false) { NewLine = "\n" };
    }

    /// <summary>The .rec file being written.</summary>
    public string RecPath { get; }

    /// <summary>How many times a record was split because its data held the magic number.</summary>
    public int SplitCount { get; private set; }

    /// <summary>Appends one record under <paramref name="key"/> and returns its byte offset in the .rec file.</summary>
    /// <exception cref="ArgumentException">The key was already written, or the data is too long for one record.</exception>
    public long Write(long key, ReadOnlySpan<byte> data)
    {
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"Key {key} was already written to '{RecPath}': keys must be unique.", nameof(key));
        }
        if (data.Length > MaxPartLength)
        {
            throw new ArgumentException($"Record {key} has {data.Length} bytes; RecordIO lengths are limited to {MaxPartLength}.", nameof(data));
        }
        long offset = _rec.Position;
        int lowerAlign = data.Length & ~3;
        int start = 0;
        for (int i = 0; i < lowerAlign; i += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) == Magic)
            {
                WritePart(start == 0 ? 1u : 2u, data[start..i]);
                start = i + 4;
                SplitCount++;
            }
        }
        WritePart(start != 0 ? 3u : 0u, data[start..]);
        int padding = (4 - (data.Length & 3)) & 3;
        Span<byte> zeros = stackalloc byte[4];
        zeros.Clear();
        _rec.Write(zeros[..padding]);
        _idx.Write(key.ToString(CultureInfo.InvariantCulture));
        _idx.Write('\t');
        _idx.Write(offset.ToString(CultureInfo.InvariantCulture));
        _idx.Write('\n');
        return offset;
    }

    /// <summary>Flushes and closes both files.</summary>
    public void Dispose()
    {
        _idx.Dispose();
        _rec.Dispose();
    }

    private void WritePart(uint cflag, ReadOnlySpan<byte> part)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (cflag << 29) | (uint)part.Length);
        _rec.Write(header);
        _rec.Write(part);
    }
}

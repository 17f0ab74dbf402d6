using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// Reads records of an MXNet/dmlc indexed RecordIO pair (.rec + .idx) by key, one at a time with positioned reads
/// (the .rec file is never loaded whole; reads are thread-safe). Split records (cflag 1, 2.., 3) are joined with
/// the magic number re-inserted between parts, as dmlc-core's RecordIOReader does.
/// </summary>
public sealed class RecordIoReader : IDisposable
{
    private static readonly byte[] MagicBytes = [0x0a, 0x23, 0xd7, 0xce]; // Magic, little-endian

    private readonly SafeFileHandle _handle;
    private readonly long[] _keys;
    private readonly long[] _offsets;

    private RecordIoReader(string recPath, SafeFileHandle handle, long[] keys, long[] offsets)
    {
        RecPath = recPath;
        _handle = handle;
        _keys = keys;
        _offsets = offsets;
        Length = RandomAccess.GetLength(handle);
    }

    /// <summary>The .rec file.</summary>
    public string RecPath { get; }

    /// <summary>Size of the .rec file in bytes.</summary>
    public long Length { get; }

    /// <summary>The keys listed in the .idx file, ascending.</summary>
    public IReadOnlyList<long> Keys => _keys;

    /// <summary>
    /// Opens <paramref name="recPath"/> and its index <paramref name="idxPath"/> (text lines "key\toffset").
    /// </summary>
    /// <exception cref="InvalidDataException">An index line is malformed or a key repeats.</exception>
    public static RecordIoReader Open(string recPath, string idxPath)
    {
        var keys = new List<long>();
        var offsets = new List<long>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(idxPath))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split('\t');
            if (fields.Length != 2
                || !long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long key)
                || !long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long offset))
            {
                throw new InvalidDataException($"Index '{idxPath}' line {lineNumber}: expected \"key<TAB>offset\", got \"{Shorten(line)}\".");
            }
            if (offset < 0)
            {
                throw new InvalidDataException($"Index '{idxPath}' line {lineNumber}: negative offset {offset} for key {key}.");
            }
            keys.Add(key);
            offsets.Add(offset);
        }
        var keyArray = keys.ToArray();
        var offsetArray = offsets.ToArray();
        Array.Sort(keyArray, offsetArray);
        for (int i = 1; i < keyArray.Length; i++)
        {
            if (keyArray[i] == keyArray[i - 1])
            {
                throw new InvalidDataException($"Index '{idxPath}' lists key {keyArray[i]} twice.");
            }
        }
        var handle = File.OpenHandle(recPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        return new RecordIoReader(recPath, handle, keyArray, offsetArray);
    }

    /// <summary>Whether the index lists <paramref name="key"/>.</summary>
    public bool Contains(long key) => Array.BinarySearch(_keys, key) >= 0;

    /// <summary>The byte offset of <paramref name="key"/> in the .rec file.</summary>
    /// <exception cref="KeyNotFoundException">The index does not list the key.</exception>
    public long OffsetOf(long key)
    {
        int i = Array.BinarySearch(_keys, key);
        if (i < 0)
        {
            throw new KeyNotFoundException($"Key {key} is not in the index of '{RecPath}'.");
        }
        return _offsets[i];
    }

    /// <summary>Reads the record stored under <paramref name="key"/>, joining split parts.</summary>
    /// <exception cref="InvalidDataException">The record is truncated, lacks the magic number or has a bad part sequence; the message names the file and byte offset.</exception>
    public byte[] Read(long key) => ReadAt(OffsetOf(key));

    /// <summary>Reads the record starting at byte <paramref name="offset"/>.</summary>
    /// <exception cref="InvalidDataException">The record is truncated, lacks the magic number or has a bad part sequence.</exception>
    public byte[] ReadAt(long offset)
    {
        using var result = new MemoryStream();
        Span<byte> header = stackalloc byte[8];
        long position = offset;
        bool first = true;
        while (true)
        {
            ReadExactly(header, position, "part header");
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (magic != RecordIoWriter.Magic)
            {
                throw new InvalidDataException($"'{RecPath}' at offset {position}: expected RecordIO magic 0x{RecordIoWriter.Magic:x8}, found 0x{magic:x8}.");
            }
            uint lrec = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            uint cflag = lrec >> 29;
            int length = (int)(lrec & RecordIoWriter.MaxPartLength);
            if (first ? cflag is 2 or 3 : cflag is 0 or 1)
            {
                throw new InvalidDataException($"'{RecPath}' at offset {position}: part flag {cflag} cannot {(first ? "start a record" : "continue a split record")} (record starts at offset {offset}).");
            }
            if (!first)
            {
                result.Write(MagicBytes);
            }
            if (position + 8 + length > Length)
            {
                // Checked before allocating, so a corrupt length cannot ask for half a gigabyte.
                throw new InvalidDataException($"'{RecPath}' is truncated at offset {position + 8}: the {length}-byte part data needs {length} bytes but the file ends at {Length}.");
            }
            var data = new byte[length];
            ReadExactly(data, position + 8, $"{length}-byte part data");
            result.Write(data);
            position += 8 + ((length + 3L) & ~3L);
            if (cflag is 0 or 3)
            {
                return result.ToArray();
            }
            first = false;
        }
    }

    /// <summary>Closes the .rec file.</summary>
    public void Dispose() => _handle.Dispose();

    private void ReadExactly(Span<byte> buffer, long offset, string what)
    {
        if (offset + buffer.Length > Length)
        {
            throw new InvalidDataException($"'{RecPath}' is truncated at offset {offset}: the {what} needs {buffer.Length} bytes but the file ends at {Length}.");
        }
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(_handle, buffer[total..], offset + total);
            if (n == 0)
            {
                throw new InvalidDataException($"'{RecPath}' is truncated at offset {offset + total}: the {what} needs {buffer.Length - total} more bytes.");
            }
            total += n;
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";
}

using System.Buffers.Binary;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// The header MXNet's recordio.pack puts before each payload (IRHeader): uint32 flag, float32 label, uint64 id,
/// uint64 id2 (24 bytes, little-endian); when flag &gt; 0, flag float32 labels follow and replace the label.
/// </summary>
/// <param name="Flag">0 for a single label, else the number of labels that follow the header.</param>
/// <param name="Label">The single label (used when <paramref name="Flag"/> is 0).</param>
/// <param name="Id">First id field.</param>
/// <param name="Id2">Second id field.</param>
/// <param name="Labels">The <paramref name="Flag"/> labels (empty when Flag is 0).</param>
public sealed record InsightFaceRecordHeader(uint Flag, float Label, ulong Id, ulong Id2, float[] Labels)
{
    /// <summary>Size of the fixed part of the header in bytes.</summary>
    public const int Size = 24;

    /// <summary>The effective label: <see cref="Label"/>, or Labels[0] when there are several.</summary>
    public float EffectiveLabel => Flag > 0 ? Labels[0] : Label;

    /// <summary>Header for an image with one class label.</summary>
    public static InsightFaceRecordHeader ForLabel(float label, ulong id = 0) => new(0, label, id, 0, []);

    /// <summary>Header carrying several labels (flag = labels.Length).</summary>
    public static InsightFaceRecordHeader ForLabels(float[] labels, ulong id = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new((uint)labels.Length, 0, id, 0, labels);
    }

    /// <summary>Packs this header and the encoded image into one record payload (MXNet recordio.pack).</summary>
    public byte[] Pack(ReadOnlySpan<byte> image)
    {
        if (Labels.Length != Flag)
        {
            throw new InvalidOperationException($"Flag {Flag} must equal the number of labels ({Labels.Length}).");
        }
        var payload = new byte[Size + 4 * Labels.Length + image.Length];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Flag);
        BinaryPrimitives.WriteSingleLittleEndian(span[4..], Label);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], Id);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], Id2);
        for (int i = 0; i < Labels.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[(Size + 4 * i)..], Labels[i]);
        }
        image.CopyTo(span[(Size + 4 * Labels.Length)..]);
        return payload;
    }

    /// <summary>
    /// Splits a payload into its header and the offset where the image bytes start.
    /// <paramref name="source"/> names the record in error messages (file, key, offset).
    /// </summary>
    /// <exception cref="InvalidDataException">The payload is shorter than its header says.</exception>
    public static InsightFaceRecordHeader Unpack(ReadOnlySpan<byte> payload, string source, out int imageOffset)
    {
        if (payload.Length < Size)
        {
            throw new InvalidDataException($"{source}: the payload has {payload.Length} bytes, fewer than the {Size}-byte header.");
        }
        uint flag = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (flag > (payload.Length - Size) / 4)
        {
            throw new InvalidDataException($"{source}: header flag {flag} announces {flag} labels but only {payload.Length - Size} bytes follow the header.");
        }
        var labels = new float[flag];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = BinaryPrimitives.ReadSingleLittleEndian(payload[(Size + 4 * i)..]);
        }
        imageOffset = Size + 4 * (int)flag;
        return new InsightFaceRecordHeader(
            flag,
            BinaryPrimitives.ReadSingleLittleEndian(payload[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]),
            labels);
    }
}

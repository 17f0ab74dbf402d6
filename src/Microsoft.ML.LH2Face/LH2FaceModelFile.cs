using System.IO.Compression;
using Google.Protobuf;
using Microsoft.ML.LH2Face.Onnx;
using Onnx;

namespace Microsoft.ML.LH2Face;

/// <summary>Checks on a saved model.zip before it is loaded.</summary>
public static class LH2FaceModelFile
{
    /// <summary>
    /// Verifies the model.zip at <paramref name="path"/> (as written by <c>mlContext.Model.Save</c> of a pipeline with an
    /// LH2Face transformer): the zip opens, every entry decompresses to its recorded length with its recorded CRC-32, and
    /// every ONNX graph of this library in it still has the SHA-256 written into its metadata at export. ML.NET's
    /// loader checks none of these: a damaged or edited model would otherwise load and score silently wrong.
    /// </summary>
    /// <returns>What the verified graphs say of the model: the input side and embedding size.</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip, an entry is damaged, a graph was changed after it was
    /// saved, or no LH2Face graph is inside; the message names the file and the entry.</exception>
    public static LH2FaceModelFileInfo Verify(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Model '{path}' is not a readable model.zip ({e.Message.TrimEnd('.')}): it is truncated or not a zip. Save the model again or copy it whole.", e);
        }
        using (zip)
        {
            int graphs = 0, inputSize = 0, embeddingSize = 0;
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/'))
                    continue;
                var bytes = ReadChecked(path, entry);
                if (TryReadLH2FaceGraph(bytes) is not { } model)
                    continue;
                var expected = model.MetadataProps.LastOrDefault(p => p.Key == OnnxMetadata.GraphSha256)?.Value;
                if (expected is null)
                    throw new InvalidDataException($"Model '{path}', entry '{entry.FullName}': the LH2Face graph carries no {OnnxMetadata.GraphSha256} (written by an older version of this library?); train or export it again to get a model that can be verified.");
                if (!string.Equals(OnnxMetadata.HashGraph(model), expected, StringComparison.Ordinal))
                    throw new InvalidDataException($"Model '{path}', entry '{entry.FullName}': the ONNX graph (its weights or nodes) differs from the one saved; the file was edited or damaged after saving. Use the original model.zip or train again.");
                graphs++;
                var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                if (metadata.TryGetValue(OnnxMetadata.InputSize, out var size))
                    _ = int.TryParse(size.Split('x')[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out inputSize);
                if (metadata.TryGetValue(OnnxMetadata.EmbeddingSize, out var dimension))
                    _ = int.TryParse(dimension, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out embeddingSize);
            }
            if (graphs == 0)
                throw new InvalidDataException($"Model '{path}' holds no LH2Face ONNX graph: it was not saved from a pipeline with an LH2Face model. Give a model.zip written by LH2FaceTrainer (or 'lh2face train').");
            return new LH2FaceModelFileInfo(graphs, inputSize, embeddingSize);
        }
    }

    private static byte[] ReadChecked(string path, ZipArchiveEntry entry)
    {
        byte[] bytes;
        try
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream(entry.Length > 0 && entry.Length < int.MaxValue ? (int)entry.Length : 0);
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new InvalidDataException($"Model '{path}', entry '{entry.FullName}' does not decompress ({e.Message.TrimEnd('.')}): the file is damaged. Use the original model.zip or train again.", e);
        }
        if (bytes.LongLength != entry.Length || Crc32(bytes) != entry.Crc32)
            throw new InvalidDataException($"Model '{path}', entry '{entry.FullName}' fails its zip check (CRC-32 or length differs from the one recorded): the file is damaged. Use the original model.zip or train again.");
        return bytes;
    }

    /// <summary>The ONNX model in <paramref name="bytes"/> when it is one this library wrote (it has the format-version key).</summary>
    private static ModelProto? TryReadLH2FaceGraph(byte[] bytes)
    {
        // ONNX files start with field 1 (ir_version, varint): tag byte 0x08. ML.NET's OnnxTransformer stores the file
        // behind an int32 length (its "OnnxModel" entry). Anything else is skipped without parsing.
        int offset = bytes.Length > 5 && System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes) == bytes.Length - 4 ? 4 : 0;
        if (bytes.Length < offset + 2 || bytes[offset] != 0x08)
            return null;
        try
        {
            var model = ModelProto.Parser.ParseFrom(bytes.AsSpan(offset));
            return model.Graph is not null && model.MetadataProps.Any(p => p.Key == OnnxMetadata.FormatVersion) ? model : null;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>The zip CRC-32 (IEEE 802.3, reflected, as PKZIP writes it).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}

/// <summary>What <see cref="LH2FaceModelFile.Verify"/> found in a model.zip.</summary>
/// <param name="Graphs">LH2Face ONNX graphs verified (the scoring graph; at least one).</param>
/// <param name="InputSize">Side of the square input image in pixels, from the graph's metadata (0 if absent).</param>
/// <param name="EmbeddingSize">Length of the embedding, from the graph's metadata (0 if absent).</param>
public sealed record LH2FaceModelFileInfo(int Graphs, int InputSize, int EmbeddingSize);

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
        int inputSize = 0, embeddingSize = 0;
        var graphs = ReadGraphs(path);
        foreach (var graph in graphs)
        {
            var metadata = OnnxMetadata.Of(graph.Model);
            if (metadata.TryGetValue(LH2FaceModelMetadata.InputSize, out var size))
                _ = int.TryParse(size.Split('x')[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out inputSize);
            if (metadata.TryGetValue(LH2FaceModelMetadata.EmbeddingSize, out var dimension))
                _ = int.TryParse(dimension, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out embeddingSize);
        }
        return new LH2FaceModelFileInfo(graphs.Count, inputSize, embeddingSize);
    }

    /// <summary>
    /// Verifies the model.zip at <paramref name="path"/> as <see cref="Verify"/> does and returns the columns and sizes its
    /// LH2Face graph names, so that code feeding it needs no guess; null for a model saved by an earlier version of this
    /// library, which did not write them (<see cref="LH2FaceModelMetadata.Transformer"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">As for <see cref="Verify"/>, or the model holds several LH2Face graphs.</exception>
    public static LH2FaceModelInterface? ReadInterface(string path)
    {
        var (model, _) = ReadScoringGraph(path);
        var metadata = OnnxMetadata.Of(model);
        if (!metadata.ContainsKey(LH2FaceModelMetadata.Transformer))
            return null;
        var description = LH2FaceModelDescription.FromMetadata(metadata, path);
        var settings = description.Settings;
        return new LH2FaceModelInterface(description.InputSize, description.EmbeddingSize, settings.ImageColumn, settings.InputKind == ImageInputKind.Image,
            settings.EmbeddingColumn, settings.QualityColumn);
    }

    /// <summary>The one LH2Face graph of a verified model.zip (the ONNX file bytes, without ML.NET's length prefix).</summary>
    internal static (ModelProto Model, byte[] Bytes) ReadScoringGraph(string path)
    {
        var graphs = ReadGraphs(path);
        if (graphs.Count > 1)
            throw new InvalidDataException($"Model '{path}' holds {graphs.Count} LH2Face graphs (a pipeline with several LH2Face transformers); LH2FaceTransformer.Load rebuilds a model.zip with one. Load it with mlContext.Model.Load.");
        return (graphs[0].Model, graphs[0].Bytes);
    }

    /// <summary>Verifies every entry of the zip and every LH2Face graph in it (see <see cref="Verify"/>) and returns the graphs.</summary>
    private static List<(string Entry, ModelProto Model, byte[] Bytes)> ReadGraphs(string path)
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
            var graphs = new List<(string, ModelProto, byte[])>();
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/'))
                    continue;
                var bytes = ReadChecked(path, entry);
                if (TryReadLH2FaceGraph(bytes) is not { } graph)
                    continue;
                var model = graph.Model;
                var expected = model.MetadataProps.LastOrDefault(p => p.Key == LH2FaceModelMetadata.GraphSha256)?.Value;
                if (expected is null)
                    throw new InvalidDataException($"Model '{path}', entry '{entry.FullName}': the LH2Face graph carries no {LH2FaceModelMetadata.GraphSha256} (written by an older version of this library?); train or export it again to get a model that can be verified.");
                if (!string.Equals(OnnxMetadata.HashGraph(model), expected, StringComparison.Ordinal))
                    throw new InvalidDataException($"Model '{path}', entry '{entry.FullName}': the ONNX graph (its weights or nodes) differs from the one saved; the file was edited or damaged after saving. Use the original model.zip or train again.");
                graphs.Add((entry.FullName, model, graph.Bytes));
            }
            if (graphs.Count == 0)
                throw new InvalidDataException($"Model '{path}' holds no LH2Face ONNX graph: it was not saved from a pipeline with an LH2Face model. Give a model.zip written by LH2FaceTrainer (or 'lh2face train').");
            return graphs;
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

    /// <summary>The ONNX model in <paramref name="bytes"/> (and its file bytes) when it is one this library wrote (it has the format-version key).</summary>
    private static (ModelProto Model, byte[] Bytes)? TryReadLH2FaceGraph(byte[] bytes)
    {
        // ONNX files start with field 1 (ir_version, varint): tag byte 0x08. ML.NET's OnnxTransformer stores the file
        // behind an int32 length (its "OnnxModel" entry). Anything else is skipped without parsing.
        int offset = bytes.Length > 5 && System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes) == bytes.Length - 4 ? 4 : 0;
        if (bytes.Length < offset + 2 || bytes[offset] != 0x08)
            return null;
        try
        {
            var model = ModelProto.Parser.ParseFrom(bytes.AsSpan(offset));
            return model.Graph is not null && model.MetadataProps.Any(p => p.Key == LH2FaceModelMetadata.FormatVersion) ? (model, bytes[offset..]) : null;
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

/// <summary>What a model.zip of this library takes and gives (<see cref="LH2FaceModelFile.ReadInterface"/>), from its metadata.</summary>
/// <param name="InputSize">Side of the square input image in pixels.</param>
/// <param name="EmbeddingSize">Length of the embedding.</param>
/// <param name="ImageColumnName">Name of the image input column.</param>
/// <param name="TakesImages">True when the image column is an MLImage (of any size), false when it is planar RGB pixels (3 x S x S floats).</param>
/// <param name="EmbeddingColumnName">Name of the embedding output column.</param>
/// <param name="QualityColumnName">Name of the quality output column.</param>
public sealed record LH2FaceModelInterface(int InputSize, int EmbeddingSize, string ImageColumnName, bool TakesImages, string EmbeddingColumnName, string QualityColumnName);

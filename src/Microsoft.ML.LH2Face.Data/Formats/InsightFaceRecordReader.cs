using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// Streams an insightface training pack (train.rec + train.idx [+ property]) record by record. Record 0 with
/// flag &gt; 0 holds [a, b]: images are keys 1..a-1; when record 0 has flag 0 every key is an image. The class count
/// comes from the property file ("num_classes,112,112"), else from record 0 (b - a identity records), else from a
/// scan of every label. Labels must be whole numbers in [0, class count): anything else is corrupt, never a
/// silently wrong label.
/// </summary>
public sealed class InsightFaceRecordReader : IDisposable
{
    private readonly RecordIoReader _records;
    private readonly long[] _imageKeys;
    private readonly ConcurrentDictionary<long, string> _skipped = new();

    private InsightFaceRecordReader(RecordIoReader records, bool skipCorrupt)
    {
        _records = records;
        SkipCorrupt = skipCorrupt;
        _imageKeys = FindImageKeys(out int headerClasses);
        string property = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(records.RecPath))!, "property");
        NumClasses = File.Exists(property) ? ReadProperty(property) : headerClasses > 0 ? headerClasses : ScanClassCount();
    }

    /// <summary>The .rec file.</summary>
    public string RecPath => _records.RecPath;

    /// <summary>Number of identities (classes): labels lie in [0, NumClasses).</summary>
    public int NumClasses { get; }

    /// <summary>The keys of the image records, ascending.</summary>
    public IReadOnlyList<long> ImageKeys => _imageKeys;

    /// <summary>Whether corrupt records are skipped (and counted) instead of raising <see cref="InvalidDataException"/>.</summary>
    public bool SkipCorrupt { get; }

    /// <summary>How many distinct corrupt records were skipped so far (only with <see cref="SkipCorrupt"/>).</summary>
    public int CorruptCount => _skipped.Count;

    /// <summary>The skipped records' keys and why each was skipped.</summary>
    public IReadOnlyDictionary<long, string> CorruptRecords => _skipped;

    /// <summary>
    /// Opens a pack. <paramref name="path"/> is the folder holding train.rec and train.idx, or the .rec file itself
    /// (its index is the same path with extension .idx).
    /// </summary>
    /// <exception cref="FileNotFoundException">The .rec or .idx file is missing.</exception>
    /// <exception cref="InvalidDataException">The index, the property file or record 0 is malformed.</exception>
    public static InsightFaceRecordReader Open(string path, bool skipCorrupt = false)
    {
        string rec = Directory.Exists(path) ? Path.Combine(path, "train.rec") : path;
        string idx = Path.ChangeExtension(rec, ".idx");
        foreach (var file in new[] { rec, idx })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"RecordIO pack file '{file}' does not exist: a pack needs train.rec and train.idx side by side.", file);
            }
        }
        var records = RecordIoReader.Open(rec, idx);
        try
        {
            return new InsightFaceRecordReader(records, skipCorrupt);
        }
        catch
        {
            records.Dispose();
            throw;
        }
    }

    /// <summary>Reads the image record under <paramref name="key"/>.</summary>
    /// <exception cref="InvalidDataException">The record is corrupt (the message names file, key and offset).</exception>
    public InsightFaceRecord Read(long key)
    {
        long offset = _records.OffsetOf(key);
        string source = $"'{RecPath}' record {key} at offset {offset}";
        var payload = _records.ReadAt(offset);
        var header = InsightFaceRecordHeader.Unpack(payload, source, out int imageOffset);
        float label = header.EffectiveLabel;
        if (!float.IsFinite(label) || label != MathF.Floor(label) || label < 0 || label >= NumClasses)
        {
            throw new InvalidDataException($"{source}: label {label.ToString(CultureInfo.InvariantCulture)} is not a class index in [0, {NumClasses}).");
        }
        if (imageOffset == payload.Length)
        {
            throw new InvalidDataException($"{source}: the record holds no image bytes.");
        }
        return new InsightFaceRecord(key, (int)label, header, payload[imageOffset..]);
    }

    /// <summary>Streams the image records in key order; with <see cref="SkipCorrupt"/>, corrupt ones are skipped and counted.</summary>
    public IEnumerable<InsightFaceRecord> Enumerate()
    {
        foreach (long key in _imageKeys)
        {
            InsightFaceRecord record;
            try
            {
                record = Read(key);
            }
            catch (InvalidDataException e) when (SkipCorrupt)
            {
                _skipped.TryAdd(key, e.Message);
                continue;
            }
            yield return record;
        }
    }

    /// <summary>
    /// The pack as a streaming <see cref="IDataView"/>: "Image" (MLImage, decoded on demand), "Label" (uint key of
    /// <see cref="NumClasses"/> values, label + 1) and "Key" (Int64 record key). Without <see cref="SkipCorrupt"/> the view
    /// is an <see cref="IRandomAccessDataView"/> (row i is the record <see cref="ImageKeys"/>[i], read through the .idx
    /// offsets), so the trainer can stream a pack larger than memory; with it, the corrupt records are only known after a
    /// pass, so the view is sequential.
    /// </summary>
    public IDataView ToDataView()
    {
        var columns = new[]
        {
            ImageColumns.Encoded<InsightFaceRecord>("Image", r => r.Image, r => $"'{RecPath}' record {r.Key} at offset {_records.OffsetOf(r.Key)}"),
            ImageColumns.Key<InsightFaceRecord>("Label", NumClasses, r => r.Label),
            RowColumn<InsightFaceRecord>.Create("Key", NumberDataViewType.Int64, (InsightFaceRecord r, ref long value) => value = r.Key),
        };
        return SkipCorrupt
            ? new RowDataView<InsightFaceRecord>(Enumerate, null, columns)
            : new IndexedRowDataView<InsightFaceRecord>(_imageKeys.Length, i => Read(_imageKeys[i]), columns);
    }

    /// <summary>Closes the .rec file.</summary>
    public void Dispose() => _records.Dispose();

    private long[] FindImageKeys(out int headerClasses)
    {
        headerClasses = 0;
        var keys = _records.Keys;
        if (!_records.Contains(0))
        {
            return [.. keys];
        }
        long offset = _records.OffsetOf(0);
        string source = $"'{RecPath}' record 0 at offset {offset}";
        var header = InsightFaceRecordHeader.Unpack(_records.ReadAt(offset), source, out _);
        if (header.Flag == 0)
        {
            return [.. keys];
        }
        if (header.Flag < 2)
        {
            throw new InvalidDataException($"{source}: the header record must hold [a, b] (2 labels), got {header.Flag}.");
        }
        float a = header.Labels[0], b = header.Labels[1];
        if (a != MathF.Floor(a) || b != MathF.Floor(b) || a < 1 || b < a)
        {
            throw new InvalidDataException($"{source}: header labels [a, b] = [{a}, {b}] must be whole numbers with 1 <= a <= b.");
        }
        headerClasses = (int)(b - a);
        var imageKeys = new long[(long)a - 1];
        for (int i = 0; i < imageKeys.Length; i++)
        {
            imageKeys[i] = i + 1;
            if (!_records.Contains(i + 1))
            {
                throw new InvalidDataException($"{source}: header says images are keys 1..{a - 1} but the index lacks key {i + 1}.");
            }
        }
        return imageKeys;
    }

    private static int ReadProperty(string path)
    {
        var text = File.ReadAllText(path).Trim();
        var fields = text.Split(',');
        if (fields.Length < 1 || !int.TryParse(fields[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int classes) || classes <= 0)
        {
            throw new InvalidDataException($"Property file '{path}' at offset 0: expected \"num_classes,height,width\", got \"{text}\".");
        }
        return classes;
    }

    // Without a property file or header record, the class count is the largest label + 1: one header read per record.
    private int ScanClassCount()
    {
        int max = -1;
        foreach (long key in _imageKeys)
        {
            long offset = _records.OffsetOf(key);
            try
            {
                var payload = _records.ReadAt(offset);
                float label = InsightFaceRecordHeader.Unpack(payload, $"'{RecPath}' record {key} at offset {offset}", out _).EffectiveLabel;
                if (float.IsFinite(label) && label >= 0 && label == MathF.Floor(label) && label < int.MaxValue)
                {
                    max = Math.Max(max, (int)label);
                }
            }
            catch (InvalidDataException) when (SkipCorrupt)
            {
                // Counted when the record is read.
            }
        }
        return max + 1;
    }
}

using System.Globalization;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// Writes an insightface training pack laid out like MS1M/Glint packs: images under keys 1..a-1 (header label =
/// class index), identity records under keys a..b-1 whose two labels are the [first, last + 1) image keys of that
/// identity, record 0 holding [a, b], plus the property file "num_classes,height,width". Images must arrive
/// grouped by identity in ascending label order, as the identity records require.
/// </summary>
public sealed class InsightFaceRecordWriter : IDisposable
{
    private readonly RecordIoWriter _writer;
    private readonly string _folder;
    private readonly int _imageSize;
    private readonly List<long> _identityStarts = [];
    private long _nextKey = 1;
    private bool _completed;

    /// <summary>Creates train.rec, train.idx and (on completion) property in <paramref name="folder"/>.</summary>
    public InsightFaceRecordWriter(string folder, int imageSize = FaceTemplate.Size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageSize);
        _folder = Directory.CreateDirectory(folder).FullName;
        _imageSize = imageSize;
        _writer = new RecordIoWriter(Path.Combine(_folder, "train.rec"), Path.Combine(_folder, "train.idx"));
    }

    /// <summary>Images written so far.</summary>
    public long ImageCount => _nextKey - 1;

    /// <summary>Appends one encoded image of class <paramref name="label"/> and returns its key.</summary>
    /// <exception cref="ArgumentException">The label is negative or lower than the previous one.</exception>
    public long WriteImage(int label, ReadOnlySpan<byte> encodedImage)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (label < _identityStarts.Count - 1 || label < 0)
        {
            throw new ArgumentException($"Label {label} arrives after label {_identityStarts.Count - 1}: write images grouped by identity in ascending label order.", nameof(label));
        }
        while (_identityStarts.Count <= label)
        {
            _identityStarts.Add(_nextKey);
        }
        long key = _nextKey++;
        _writer.Write(key, InsightFaceRecordHeader.ForLabel(label, (ulong)key).Pack(encodedImage));
        return key;
    }

    /// <summary>Writes the identity records, the header record 0 and the property file, then closes the pack.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        long a = _nextKey;
        for (int i = 0; i < _identityStarts.Count; i++)
        {
            long end = i + 1 < _identityStarts.Count ? _identityStarts[i + 1] : a;
            _writer.Write(a + i, InsightFaceRecordHeader.ForLabels([_identityStarts[i], end]).Pack([]));
        }
        _writer.Write(0, InsightFaceRecordHeader.ForLabels([a, a + _identityStarts.Count]).Pack([]));
        _writer.Dispose();
        File.WriteAllText(
            Path.Combine(_folder, "property"),
            string.Create(CultureInfo.InvariantCulture, $"{_identityStarts.Count},{_imageSize},{_imageSize}"));
        _completed = true;
    }

    /// <summary>Completes the pack if <see cref="Complete"/> was not called.</summary>
    public void Dispose() => Complete();
}

using System.Text;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>Streams the lines of a text file with their 1-based number and the byte offset where each starts, for error messages.</summary>
internal static class TextLines
{
    public static IEnumerable<(int Number, long Offset, string Text)> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var line = new List<byte>(128);
        long offset = 0, start = 0;
        int number = 0;
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            offset++;
            if (b == '\n')
            {
                yield return (++number, start, Decode(line));
                line.Clear();
                start = offset;
            }
            else
            {
                line.Add((byte)b);
            }
        }
        if (line.Count > 0)
        {
            yield return (++number, start, Decode(line));
        }
    }

    private static string Decode(List<byte> bytes)
    {
        int count = bytes.Count > 0 && bytes[^1] == '\r' ? bytes.Count - 1 : bytes.Count;
        return Encoding.UTF8.GetString(bytes.ToArray(), 0, count);
    }
}

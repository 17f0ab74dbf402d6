using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// Reads the IJB-B / IJB-C 1:1 verification meta files under a root folder, as insightface's eval_ijbc does:
/// meta/{p}_face_tid_mid.txt "image template_id media_id", meta/{p}_name_5pts_score.txt
/// "image x1 y1 .. x5 y5 faceness" (same lines, same order) and meta/{p}_template_pair_label.txt "tid1 tid2 label",
/// with p = ijbb or ijbc; crops live in loose_crop/. Fields are separated by spaces. A malformed line raises an
/// <see cref="InvalidDataException"/> naming file, line and byte offset, or with skipCorrupt is skipped and counted.
/// </summary>
public sealed class IjbMeta
{
    private IjbMeta(string root, IjbVariant variant, IReadOnlyList<IjbFace> faces, IjbTemplatePair[] pairs, int corruptLines)
    {
        Root = root;
        Variant = variant;
        Faces = faces;
        TemplatePairs = pairs;
        CorruptLineCount = corruptLines;
    }

    /// <summary>The benchmark root (holding meta/ and loose_crop/).</summary>
    public string Root { get; }

    /// <summary>IJB-B or IJB-C.</summary>
    public IjbVariant Variant { get; }

    /// <summary>The faces, in file order.</summary>
    public IReadOnlyList<IjbFace> Faces { get; }

    /// <summary>The template pairs to score, in file order.</summary>
    public IReadOnlyList<IjbTemplatePair> TemplatePairs { get; }

    /// <summary>Malformed lines skipped while reading (only when skipCorrupt was set).</summary>
    public int CorruptLineCount { get; }

    /// <summary>The file prefix of a variant: "ijbb" or "ijbc".</summary>
    public static string Prefix(IjbVariant variant) => variant switch
    {
        IjbVariant.IjbB => "ijbb",
        IjbVariant.IjbC => "ijbc",
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown IJB variant: use IjbB or IjbC."),
    };

    /// <summary>Path of meta/{prefix}_{name}.txt under <paramref name="root"/>.</summary>
    public static string MetaPath(string root, IjbVariant variant, string name) => Path.Combine(root, "meta", $"{Prefix(variant)}_{name}.txt");

    /// <summary>The full path of a face crop.</summary>
    public string ImagePath(IjbFace face) => Path.Combine(Root, "loose_crop", face.ImageName);

    /// <summary>
    /// The faces as a streaming <see cref="IDataView"/>: "Image" (MLImage loaded on demand from loose_crop/),
    /// "TemplateId" and "MediaId" (Int32), "Landmarks" (10 Single: x1, y1, .., x5, y5), "Faceness" (Single) and
    /// "Path" (text). IJB has no class labels, so there is no "Label" column.
    /// </summary>
    public IDataView ToDataView()
        => new RowDataView<IjbFace>(
            () => Faces,
            Faces.Count,
            ImageColumns.File<IjbFace>("Image", ImagePath),
            RowColumn<IjbFace>.Create("TemplateId", NumberDataViewType.Int32, (IjbFace f, ref int v) => v = f.TemplateId),
            RowColumn<IjbFace>.Create("MediaId", NumberDataViewType.Int32, (IjbFace f, ref int v) => v = f.MediaId),
            RowColumn<IjbFace>.Create("Landmarks", new VectorDataViewType(NumberDataViewType.Single, 10), (IjbFace f, ref VBuffer<float> v) => v = new VBuffer<float>(10, (float[])f.Landmarks.Clone())),
            RowColumn<IjbFace>.Create("Faceness", NumberDataViewType.Single, (IjbFace f, ref float v) => v = f.Faceness),
            ImageColumns.Text<IjbFace>("Path", ImagePath));

    /// <summary>Reads the three meta files of <paramref name="variant"/> under <paramref name="root"/>.</summary>
    /// <exception cref="FileNotFoundException">A meta file is missing.</exception>
    /// <exception cref="InvalidDataException">A line is malformed, or the two face files disagree (unless <paramref name="skipCorrupt"/>).</exception>
    public static IjbMeta Read(string root, IjbVariant variant, bool skipCorrupt = false)
    {
        int corrupt = 0;
        var faces = ReadFaces(root, variant, skipCorrupt, () => corrupt++);
        var pairs = EnumerateTemplatePairs(root, variant, skipCorrupt, () => corrupt++).ToArray();
        return new IjbMeta(root, variant, faces, pairs, corrupt);
    }

    /// <summary>
    /// Streams meta/{p}_template_pair_label.txt without holding it (IJB-C has about 15.7M lines).
    /// <paramref name="onCorrupt"/> is called once per skipped line when <paramref name="skipCorrupt"/> is set.
    /// </summary>
    public static IEnumerable<IjbTemplatePair> EnumerateTemplatePairs(string root, IjbVariant variant, bool skipCorrupt = false, Action? onCorrupt = null)
    {
        string path = Existing(MetaPath(root, variant, "template_pair_label"));
        foreach (var (number, offset, text) in TextLines.Read(path))
        {
            var fields = Fields(text);
            if (fields.Length == 0)
            {
                continue;
            }
            IjbTemplatePair pair;
            try
            {
                if (fields.Length != 3)
                {
                    throw Malformed(path, number, offset, $"expected \"tid1 tid2 label\" (3 fields), got {fields.Length}");
                }
                int label = Int(fields[2], path, number, offset, "label");
                if (label is not (0 or 1))
                {
                    throw Malformed(path, number, offset, $"label must be 0 or 1, got {label}");
                }
                pair = new IjbTemplatePair(Int(fields[0], path, number, offset, "tid1"), Int(fields[1], path, number, offset, "tid2"), label);
            }
            catch (InvalidDataException) when (skipCorrupt)
            {
                onCorrupt?.Invoke();
                continue;
            }
            yield return pair;
        }
    }

    private static List<IjbFace> ReadFaces(string root, IjbVariant variant, bool skipCorrupt, Action onCorrupt)
    {
        string tidPath = Existing(MetaPath(root, variant, "face_tid_mid"));
        string ptsPath = Existing(MetaPath(root, variant, "name_5pts_score"));
        var faces = new List<IjbFace>();
        using var tids = TextLines.Read(tidPath).Where(l => Fields(l.Text).Length > 0).GetEnumerator();
        using var pts = TextLines.Read(ptsPath).Where(l => Fields(l.Text).Length > 0).GetEnumerator();
        while (true)
        {
            bool hasTid = tids.MoveNext(), hasPts = pts.MoveNext();
            if (!hasTid && !hasPts)
            {
                return faces;
            }
            if (hasTid != hasPts)
            {
                var (path, line) = hasTid ? (tidPath, tids.Current) : (ptsPath, pts.Current);
                throw Malformed(path, line.Number, line.Offset, $"this file has more face lines than '{(hasTid ? ptsPath : tidPath)}'; both list the same faces in the same order");
            }
            try
            {
                faces.Add(ParseFace(tidPath, tids.Current, ptsPath, pts.Current));
            }
            catch (InvalidDataException) when (skipCorrupt)
            {
                onCorrupt();
            }
        }
    }

    private static IjbFace ParseFace(string tidPath, (int Number, long Offset, string Text) tid, string ptsPath, (int Number, long Offset, string Text) pts)
    {
        var t = Fields(tid.Text);
        if (t.Length != 3)
        {
            throw Malformed(tidPath, tid.Number, tid.Offset, $"expected \"image template_id media_id\" (3 fields), got {t.Length}");
        }
        var p = Fields(pts.Text);
        if (p.Length != 12)
        {
            throw Malformed(ptsPath, pts.Number, pts.Offset, $"expected \"image x1 y1 .. x5 y5 faceness\" (12 fields), got {p.Length}");
        }
        if (p[0] != t[0])
        {
            throw Malformed(ptsPath, pts.Number, pts.Offset, $"image '{p[0]}' differs from '{t[0]}' on line {tid.Number} of '{tidPath}'");
        }
        var landmarks = new float[10];
        for (int i = 0; i < 10; i++)
        {
            landmarks[i] = Float(p[i + 1], ptsPath, pts.Number, pts.Offset, $"coordinate {i + 1}");
        }
        return new IjbFace(
            t[0],
            Int(t[1], tidPath, tid.Number, tid.Offset, "template_id"),
            Int(t[2], tidPath, tid.Number, tid.Offset, "media_id"),
            landmarks,
            Float(p[11], ptsPath, pts.Number, pts.Offset, "faceness"));
    }

    private static string[] Fields(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static int Int(string text, string path, int line, long offset, string field)
        => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw Malformed(path, line, offset, $"{field} \"{text}\" is not an integer");

    private static float Float(string text, string path, int line, long offset, string field)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)
            ? value
            : throw Malformed(path, line, offset, $"{field} \"{text}\" is not a finite number");

    private static InvalidDataException Malformed(string path, int line, long offset, string what)
        => new($"'{path}' line {line} (offset {offset}): {what}.");

    private static string Existing(string path)
        => File.Exists(path) ? path : throw new FileNotFoundException($"IJB meta file '{path}' does not exist: expected meta/ and loose_crop/ under the benchmark root.", path);
}

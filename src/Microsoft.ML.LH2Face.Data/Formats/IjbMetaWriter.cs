using System.Globalization;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>Writes the three IJB-B / IJB-C meta files in the layout <see cref="IjbMeta"/> reads (used by the synthetic benchmark).</summary>
public static class IjbMetaWriter
{
    /// <summary>
    /// Writes meta/{p}_face_tid_mid.txt, meta/{p}_name_5pts_score.txt and meta/{p}_template_pair_label.txt under
    /// <paramref name="root"/> and creates loose_crop/ (the caller saves the crops there under each face's ImageName).
    /// </summary>
    /// <exception cref="ArgumentException">A face has not 10 landmark values, or an image name holds whitespace.</exception>
    public static void Write(string root, IjbVariant variant, IEnumerable<IjbFace> faces, IEnumerable<IjbTemplatePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(pairs);
        Directory.CreateDirectory(Path.Combine(root, "meta"));
        Directory.CreateDirectory(Path.Combine(root, "loose_crop"));
        using (var tid = Writer(IjbMeta.MetaPath(root, variant, "face_tid_mid")))
        using (var pts = Writer(IjbMeta.MetaPath(root, variant, "name_5pts_score")))
        {
            foreach (var face in faces)
            {
                if (face.Landmarks.Length != 10)
                {
                    throw new ArgumentException($"Face '{face.ImageName}' has {face.Landmarks.Length} landmark values; IJB meta needs 5 points (10 values).", nameof(faces));
                }
                if (face.ImageName.Length == 0 || face.ImageName.Any(char.IsWhiteSpace))
                {
                    throw new ArgumentException($"Image name '{face.ImageName}' is empty or holds whitespace, which the space-separated meta files cannot carry.", nameof(faces));
                }
                tid.Write(string.Create(CultureInfo.InvariantCulture, $"{face.ImageName} {face.TemplateId} {face.MediaId}\n"));
                pts.Write(face.ImageName);
                foreach (float v in face.Landmarks)
                {
                    pts.Write(' ');
                    pts.Write(v.ToString("R", CultureInfo.InvariantCulture));
                }
                pts.Write(' ');
                pts.Write(face.Faceness.ToString("R", CultureInfo.InvariantCulture));
                pts.Write('\n');
            }
        }
        using var pairWriter = Writer(IjbMeta.MetaPath(root, variant, "template_pair_label"));
        foreach (var pair in pairs)
        {
            pairWriter.Write(string.Create(CultureInfo.InvariantCulture, $"{pair.Template1} {pair.Template2} {pair.Label}\n"));
        }
    }

    private static StreamWriter Writer(string path) => new(path, append: false) { NewLine = "\n" };
}

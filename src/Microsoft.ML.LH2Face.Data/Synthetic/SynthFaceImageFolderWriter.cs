using System.Globalization;
using System.Text;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Writes SynthFace as an image folder (CASIA-WebFace style): root/NNNNN/SSSS.png, one folder per identity
/// (zero-padded index, so ordinal order is identity order), plus root/metadata.csv with every factor and
/// label of every image. Everything is written to a hidden sibling folder first and moved into place, so a
/// half-written set is never seen under <c>root</c>.
/// </summary>
public static class SynthFaceImageFolderWriter
{
    /// <summary>Name of the metadata file in the root folder.</summary>
    public const string MetadataFileName = "metadata.csv";

    private static readonly (string Name, Func<Row, string> Value)[] Columns =
    {
        ("path", r => r.Path),
        ("identity", r => I(r.Identity)),
        ("sample", r => I(r.Sample)),
        ("look_alike_of", r => r.LookAlikeOf is int l ? I(l) : ""),
        ("quality", r => r.F.Quality.ToString()),
        ("hardness", r => r.F.Hardness.ToString()),
        ("session", r => I(r.F.Session)),
        ("yaw", r => D(r.F.Yaw)), ("pitch", r => D(r.F.Pitch)), ("roll", r => D(r.F.Roll)),
        ("smile", r => D(r.F.Smile)), ("mouth_open", r => D(r.F.MouthOpen)), ("eyes_closed", r => D(r.F.EyesClosed)), ("brows_raised", r => D(r.F.BrowsRaised)),
        ("light_azimuth", r => D(r.F.LightAzimuth)), ("light_elevation", r => D(r.F.LightElevation)),
        ("ambient", r => D(r.F.Ambient)), ("diffuse", r => D(r.F.Diffuse)),
        ("light_r", r => D(r.F.LightColor.X)), ("light_g", r => D(r.F.LightColor.Y)), ("light_b", r => D(r.F.LightColor.Z)),
        ("background_a_r", r => D(r.F.BackgroundA.X)), ("background_a_g", r => D(r.F.BackgroundA.Y)), ("background_a_b", r => D(r.F.BackgroundA.Z)),
        ("background_b_r", r => D(r.F.BackgroundB.X)), ("background_b_g", r => D(r.F.BackgroundB.Y)), ("background_b_b", r => D(r.F.BackgroundB.Z)),
        ("background_angle", r => D(r.F.BackgroundAngle)), ("background_texture", r => D(r.F.BackgroundTexture)),
        ("jitter_x", r => D(r.F.JitterX)), ("jitter_y", r => D(r.F.JitterY)), ("jitter_scale", r => D(r.F.JitterScale)),
        ("occluder", r => r.F.Occluder.ToString()),
        ("exposure_gain", r => D(r.F.Degradation.ExposureGain)), ("gaussian_blur_sigma", r => D(r.F.Degradation.GaussianBlurSigma)),
        ("motion_blur_length", r => D(r.F.Degradation.MotionBlurLength)), ("motion_blur_angle", r => D(r.F.Degradation.MotionBlurAngle)),
        ("downsample_size", r => I(r.F.Degradation.DownsampleSize)), ("noise_sigma", r => D(r.F.Degradation.NoiseSigma)),
        ("jpeg_quality", r => I(r.F.Degradation.JpegQuality)),
        ("left_eye_x", r => D(r.L[0])), ("left_eye_y", r => D(r.L[1])), ("right_eye_x", r => D(r.L[2])), ("right_eye_y", r => D(r.L[3])),
        ("nose_x", r => D(r.L[4])), ("nose_y", r => D(r.L[5])), ("left_mouth_x", r => D(r.L[6])), ("left_mouth_y", r => D(r.L[7])),
        ("right_mouth_x", r => D(r.L[8])), ("right_mouth_y", r => D(r.L[9])),
    };

    private sealed record Row(string Path, int Identity, int Sample, int? LookAlikeOf, SynthFaceFactors F, float[] L);

    /// <summary>The header of metadata.csv, in order.</summary>
    public static IReadOnlyList<string> MetadataColumns { get; } = Columns.Select(c => c.Name).ToArray();

    /// <summary>Folder name of an identity.</summary>
    public static string IdentityFolder(int identity) => identity.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>File name of an image within its identity folder.</summary>
    public static string ImageFileName(int sample) => sample.ToString("D4", CultureInfo.InvariantCulture) + ".png";

    /// <summary>
    /// Writes identities <paramref name="firstIdentity"/> .. +<paramref name="identities"/> with
    /// <paramref name="imagesPerIdentity"/> images each under <paramref name="root"/>, which must not exist yet.
    /// Returns the number of images written.
    /// </summary>
    /// <param name="root">Destination folder; created by the final move.</param>
    /// <param name="generator">The generator.</param>
    /// <param name="identities">Number of identities.</param>
    /// <param name="imagesPerIdentity">Images per identity.</param>
    /// <param name="firstIdentity">Index of the first identity.</param>
    /// <param name="progress">Receives the number of images written so far, per identity.</param>
    public static int Write(string root, SynthFaceGenerator generator, int identities, int imagesPerIdentity, int firstIdentity = 0, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(identities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerIdentity, 1);
        var full = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(full) || File.Exists(full))
            throw new IOException($"SynthFace output folder '{full}' already exists: choose a new folder or delete it first.");
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{root}' has no parent folder.", nameof(root));
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var rows = new Row[identities * imagesPerIdentity];
            for (int i = 0; i < identities; i++)
            {
                int identity = firstIdentity + i;
                var folder = IdentityFolder(identity);
                Directory.CreateDirectory(Path.Combine(temp, folder));
                int? lookAlike = generator.GetIdentity(identity).LookAlikeOf;
                Parallel.For(0, imagesPerIdentity, s =>
                {
                    var sample = generator.Generate(identity, s);
                    var relative = folder + "/" + ImageFileName(s);
                    using (var image = sample.ToImage())
                        image.Save(Path.Combine(temp, folder, ImageFileName(s)));
                    rows[i * imagesPerIdentity + s] = new Row(relative, identity, s, lookAlike, sample.Factors, sample.Landmarks);
                });
                progress?.Report((i + 1) * imagesPerIdentity);
            }
            var csv = new StringBuilder();
            csv.AppendLine(string.Join(',', Columns.Select(c => c.Name)));
            foreach (var row in rows)
                csv.AppendLine(string.Join(',', Columns.Select(c => c.Value(row))));
            File.WriteAllText(Path.Combine(temp, MetadataFileName), csv.ToString(), new UTF8Encoding(false));
            Directory.Move(temp, full);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
        return identities * imagesPerIdentity;
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

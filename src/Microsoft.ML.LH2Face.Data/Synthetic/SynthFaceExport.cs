using System.Globalization;
using System.Text;
using Microsoft.ML.LH2Face.Data.Formats;
using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Exports SynthFace in the formats of the public face benchmarks, so that insightface's own scripts (and this
/// library's readers) can consume it: an insightface RecordIO training pack (train.rec, train.idx, property), a
/// verification .bin (a pickle of (bins, issame)) with a strata sidecar, and an IJB-B/IJB-C style folder
/// (meta/ files and loose_crop/ images). Every writer builds its output under a hidden temporary sibling and moves
/// it into place at the end, so a half-written export is never seen under the target path; a target that already
/// holds something is refused with an <see cref="IOException"/> naming it.
/// </summary>
public static class SynthFaceExport
{
    /// <summary>JPEG quality of the images in RecordIO packs and .bin files (insightface's packs are JPEG too).</summary>
    public const int JpegQuality = 95;

    /// <summary>Suffix appended to a .bin path to name its strata sidecar.</summary>
    public const string StrataSuffix = ".strata.csv";

    /// <summary>Header line of the strata sidecar.</summary>
    public const string StrataHeader = "pair,stratum,kind,is_same";

    /// <summary>The path of the strata sidecar of the .bin file <paramref name="binPath"/>: "&lt;binPath&gt;.strata.csv".</summary>
    public static string StrataPath(string binPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(binPath);
        return binPath + StrataSuffix;
    }

    /// <summary>The file name of IJB face row <paramref name="index"/> (0-based) in loose_crop/: "&lt;index + 1&gt;.png".</summary>
    public static string IjbImageName(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return (index + 1).ToString(CultureInfo.InvariantCulture) + ".png";
    }

    /// <summary>
    /// Writes identities 0 .. <paramref name="identities"/> - 1 of <paramref name="generator"/>, with
    /// <paramref name="imagesPerIdentity"/> images each, as an insightface training pack in
    /// <paramref name="folder"/>: train.rec and train.idx holding JPEG images (quality <see cref="JpegQuality"/>)
    /// whose label is the identity index, and property "identities,size,size" (size = the generator's image size,
    /// 112 by default as insightface expects). Returns the number of images written.
    /// </summary>
    /// <param name="folder">Destination folder: must not exist, or be empty.</param>
    /// <param name="generator">The generator (for a protocol's training set, <c>new SynthFaceGenerator(protocol.TrainOptions)</c>).</param>
    /// <param name="identities">Number of identities (classes), 1 or more.</param>
    /// <param name="imagesPerIdentity">Images per identity, 1 or more.</param>
    /// <param name="progress">Receives the number of images written so far, once per identity.</param>
    /// <exception cref="ArgumentException">An argument is null, empty or out of range.</exception>
    /// <exception cref="IOException"><paramref name="folder"/> is a file or a non-empty folder.</exception>
    public static int WriteRecordIo(string folder, SynthFaceGenerator generator, int identities, int imagesPerIdentity, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(identities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerIdentity, 1);
        if ((long)identities * imagesPerIdentity > int.MaxValue / 2)
            throw new ArgumentOutOfRangeException(nameof(imagesPerIdentity), $"{identities} x {imagesPerIdentity} images is too many for one RecordIO pack written to '{folder}'.");
        int size = generator.ImageSize;
        return IntoFolder(folder, "RecordIO pack", temp =>
        {
            using (var writer = new InsightFaceRecordWriter(temp, size))
            {
                var encoded = new byte[imagesPerIdentity][];
                for (int identity = 0; identity < identities; identity++)
                {
                    int id = identity;
                    Parallel.For(0, imagesPerIdentity, s => encoded[s] = Encode(generator.Generate(id, s), SKEncodedImageFormat.Jpeg));
                    foreach (var bytes in encoded)
                        writer.WriteImage(identity, bytes);
                    progress?.Report((identity + 1) * imagesPerIdentity);
                }
                writer.Complete();
            }
            return identities * imagesPerIdentity;
        });
    }

    /// <summary>
    /// Writes the verification pairs of <paramref name="protocol"/> (rendered by its test-set generator,
    /// <see cref="SynthFaceProtocol.TestOptions"/>) as an insightface verification .bin at <paramref name="path"/>:
    /// a pickle of (bins, issame) with JPEG images (quality <see cref="JpegQuality"/>) in protocol order. The .bin
    /// format has no room for the strata, so they go to the sidecar <see cref="StrataPath"/>: a CSV with header
    /// <see cref="StrataHeader"/> and one line per pair "index,stratum,kind,is_same" (e.g. "0,EasyHQ,Genuine,1").
    /// Returns the stratum of each pair in file order.
    /// </summary>
    /// <param name="path">Destination .bin file: must not exist or be empty; its sidecar likewise.</param>
    /// <param name="protocol">The protocol whose <see cref="SynthFaceProtocol.Pairs"/> are written.</param>
    /// <param name="protocolVersion">Pickle protocol: 2, 3 or 4 (the default, as insightface's bins).</param>
    /// <param name="progress">Receives the number of distinct images rendered so far.</param>
    /// <exception cref="ArgumentException">An argument is null, empty or out of range.</exception>
    /// <exception cref="IOException"><paramref name="path"/> or its sidecar is a folder or a non-empty file.</exception>
    public static IReadOnlyList<SynthFaceStratum> WriteVerificationBin(string path, SynthFaceProtocol protocol, int protocolVersion = 4, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(protocol);
        if (protocolVersion is < 2 or > 4)
            throw new ArgumentOutOfRangeException(nameof(protocolVersion), protocolVersion, $"Pickle protocol for '{path}' must be 2, 3 or 4.");
        var full = Path.GetFullPath(path);
        var strataFull = StrataPath(full);
        EnsureFreeFile(full, "verification .bin");
        EnsureFreeFile(strataFull, "strata sidecar");

        var pairs = protocol.Pairs;
        var keys = pairs.SelectMany(p => new[] { (p.IdentityA, p.SampleA), (p.IdentityB, p.SampleB) }).Distinct().ToArray();
        var generator = new SynthFaceGenerator(protocol.TestOptions);
        var images = new byte[keys.Length][];
        int done = 0;
        Parallel.For(0, keys.Length, k =>
        {
            images[k] = Encode(generator.Generate(keys[k].Item1, keys[k].Item2), SKEncodedImageFormat.Jpeg);
            int n = Interlocked.Increment(ref done);
            if (progress is not null && (n % 64 == 0 || n == keys.Length)) progress.Report(n);
        });
        var index = new Dictionary<(int, int), int>(keys.Length);
        for (int k = 0; k < keys.Length; k++) index[keys[k]] = k;
        var binPairs = pairs.Select(p => new VerificationPair(images[index[(p.IdentityA, p.SampleA)]], images[index[(p.IdentityB, p.SampleB)]], p.IsSame)).ToList();

        var csv = new StringBuilder();
        csv.Append(StrataHeader).Append('\n');
        for (int i = 0; i < pairs.Count; i++)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{i},{pairs[i].Stratum},{pairs[i].Kind},{(pairs[i].IsSame ? 1 : 0)}\n"));

        string tempBin = TempSibling(full), tempStrata = TempSibling(strataFull);
        try
        {
            new VerificationPairs(binPairs, full).Write(tempBin, protocolVersion);
            File.WriteAllText(tempStrata, csv.ToString(), new UTF8Encoding(false));
            MoveFile(tempStrata, strataFull);
            MoveFile(tempBin, full);
        }
        finally
        {
            File.Delete(tempBin);
            File.Delete(tempStrata);
        }
        return pairs.Select(p => p.Stratum).ToArray();
    }

    /// <summary>
    /// Writes the template protocol of <paramref name="protocol"/> as an IJB-B or IJB-C folder under
    /// <paramref name="root"/>, in the layout <see cref="IjbMeta.Read"/> reads: one face row per image of every
    /// template (in template order; image <see cref="IjbImageName"/>, the template's id, the image's media id, the
    /// sample's 5 landmarks in crop pixels and faceness 1), the crops as PNG in loose_crop/, and one template pair
    /// line per <see cref="SynthFaceProtocol.TemplatePairs"/> entry with label 1 (genuine) or 0. Images are rendered
    /// by the test-set generator. Returns the number of faces written.
    /// </summary>
    /// <param name="root">Destination folder: must not exist, or be empty.</param>
    /// <param name="protocol">The protocol whose <see cref="SynthFaceProtocol.Templates"/> and <see cref="SynthFaceProtocol.TemplatePairs"/> are written.</param>
    /// <param name="variant">The meta file prefix (ijbb_ or ijbc_).</param>
    /// <param name="progress">Receives the number of crops written so far.</param>
    /// <exception cref="ArgumentException">An argument is null, empty or out of range.</exception>
    /// <exception cref="IOException"><paramref name="root"/> is a file or a non-empty folder.</exception>
    public static int WriteIjb(string root, SynthFaceProtocol protocol, IjbVariant variant = IjbVariant.IjbB, IProgress<int>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(protocol);
        if (!Enum.IsDefined(variant))
            throw new ArgumentOutOfRangeException(nameof(variant), variant, $"Unknown IJB variant for '{root}': use IjbB or IjbC.");
        var rows = protocol.Templates
            .SelectMany(t => t.Samples.Select((s, k) => (Template: t.Id, t.Identity, Sample: s, Media: t.Media[k])))
            .ToArray();
        var generator = new SynthFaceGenerator(protocol.TestOptions);
        return IntoFolder(root, "IJB folder", temp =>
        {
            var faces = new IjbFace[rows.Length];
            string crops = Directory.CreateDirectory(Path.Combine(temp, "loose_crop")).FullName;
            int done = 0;
            Parallel.For(0, rows.Length, i =>
            {
                var row = rows[i];
                var sample = generator.Generate(row.Identity, row.Sample);
                string name = IjbImageName(i);
                File.WriteAllBytes(Path.Combine(crops, name), Encode(sample, SKEncodedImageFormat.Png));
                faces[i] = new IjbFace(name, row.Template, row.Media, (float[])sample.Landmarks.Clone(), 1f);
                int n = Interlocked.Increment(ref done);
                if (progress is not null && (n % 64 == 0 || n == rows.Length)) progress.Report(n);
            });
            IjbMetaWriter.Write(temp, variant, faces,
                protocol.TemplatePairs.Select(p => new IjbTemplatePair(p.TemplateA, p.TemplateB, p.IsSame ? 1 : 0)));
            return rows.Length;
        });
    }

    /// <summary>Encodes a sample's RGB image as JPEG (quality <see cref="JpegQuality"/>) or PNG with SkiaSharp.</summary>
    internal static byte[] Encode(SynthFaceSample sample, SKEncodedImageFormat format)
    {
        int size = sample.Size;
        var rgb = sample.Rgb;
        var rgba = new byte[size * size * 4];
        for (int i = 0, j = 0; j < rgba.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i];
            rgba[j + 1] = rgb[i + 1];
            rgba[j + 2] = rgb[i + 2];
            rgba[j + 3] = 255;
        }
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, rgba);
        using var data = image.Encode(format, format == SKEncodedImageFormat.Jpeg ? JpegQuality : 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode SynthFace image ({sample.Identity}, {sample.Sample}) as {format}.");
        return data.ToArray();
    }

    // Builds a folder in a hidden sibling and moves it onto the target (an empty target folder is replaced).
    private static T IntoFolder<T>(string target, string what, Func<string, T> build)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        if (File.Exists(full))
            throw new IOException($"SynthFace {what} target '{full}' is a file: choose a new folder.");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new IOException($"SynthFace {what} target '{full}' already exists and is not empty: choose a new folder or delete it first.");
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"SynthFace {what} target '{full}' has no parent folder.", nameof(target));
        Directory.CreateDirectory(parent);
        var temp = TempSibling(full);
        Directory.CreateDirectory(temp);
        try
        {
            T result = build(temp);
            if (Directory.Exists(full))
                Directory.Delete(full); // empty (checked above); fails rather than losing files if something appeared since
            Directory.Move(temp, full);
            return result;
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    private static void EnsureFreeFile(string full, string what)
    {
        if (Directory.Exists(full))
            throw new IOException($"SynthFace {what} target '{full}' is a folder: choose a file path.");
        if (File.Exists(full) && new FileInfo(full).Length > 0)
            throw new IOException($"SynthFace {what} target '{full}' already exists and is not empty: choose a new path or delete it first.");
        var parent = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(parent)) Directory.CreateDirectory(parent);
    }

    private static void MoveFile(string temp, string full)
    {
        // An empty file may stand at the target (allowed above); anything else appearing meanwhile is not overwritten.
        if (File.Exists(full) && new FileInfo(full).Length == 0) File.Delete(full);
        File.Move(temp, full, overwrite: false);
    }

    private static string TempSibling(string full)
        => Path.Combine(Path.GetDirectoryName(full) ?? ".", "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N"));
}

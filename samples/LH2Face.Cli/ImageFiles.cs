using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;
using SkiaSharp;
using Spectre.Console;

namespace LH2Face.Cli;

/// <summary>Finds image files: a folder of identity sub-folders for training, any files for embedding.</summary>
public static class ImageFiles
{
    /// <summary>File extensions read as images (case-insensitive).</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg"];

    public static bool IsImage(string path)
        => Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reads root/&lt;identity&gt;/*.png|jpg|jpeg (the identity is the sub-folder name), sorted by ordinal
    /// name. Sub-folders without images are skipped and reported in <paramref name="skipped"/>.
    /// Throws <see cref="CliException"/> when the layout cannot be trained on.
    /// </summary>
    public static List<(string Path, string Identity)> ReadIdentityFolder(string root, out List<string> skipped)
    {
        if (!Directory.Exists(root))
            throw new CliException($"Data folder '{root}' does not exist.");
        var full = Path.GetFullPath(root);
        var identityDirs = Directory.GetDirectories(full).Order(StringComparer.Ordinal).ToList();
        if (identityDirs.Count == 0)
            throw new CliException($"Data folder '{root}' has no identity sub-folders: expected {root}/<identity>/*.png|jpg|jpeg.");
        var rows = new List<(string, string)>();
        skipped = [];
        int identities = 0;
        foreach (var dir in identityDirs)
        {
            var identity = Path.GetFileName(dir);
            var files = Directory.EnumerateFiles(dir).Where(IsImage).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                skipped.Add(identity);
                continue;
            }
            identities++;
            rows.AddRange(files.Select(f => (f, identity)));
        }
        if (rows.Count == 0)
            throw new CliException($"Data folder '{root}' has {identityDirs.Count} sub-folder(s) but no .png, .jpg or .jpeg images in them.");
        if (identities < 2)
            throw new CliException($"Data folder '{root}' has images of only {identities} identity; training needs at least 2 identity sub-folders with images.");
        return rows;
    }

    /// <summary>
    /// Keeps the items whose image decodes completely (<see cref="ImageCheck"/>): the image loader would otherwise use a
    /// truncated file with its missing part filled in. A damaged image stops the command with its path and what is wrong,
    /// or, with <paramref name="skipCorrupt"/>, is left out and counted on the console. With a <paramref name="policy"/>,
    /// an image that looks like a photo rather than a face crop stops the command too (<see cref="ImagePolicy"/>).
    /// </summary>
    public static List<T> KeepDecodable<T>(IReadOnlyList<T> items, Func<T, string> path, bool skipCorrupt, IAnsiConsole console, ImagePolicy? policy = null)
    {
        var kept = new List<T>(items.Count);
        var bad = new List<(string Path, string Problem)>();
        int resized = 0;
        foreach (var item in items)
        {
            var file = path(item);
            var problem = ImageCheck.Problem(file, out int width, out int height);
            if (problem is null)
            {
                if (policy is not null)
                {
                    if (policy.Refusal(file, width, height) is { } refusal)
                        throw new CliException(refusal);
                    if (width != policy.InputSize || height != policy.InputSize)
                        resized++;
                }
                kept.Add(item);
                continue;
            }
            if (!skipCorrupt)
                throw new CliException($"Image '{file}' cannot be used: {problem}. Replace or remove it, or pass --skip-corrupt to leave such images out.");
            bad.Add((file, problem));
        }
        if (bad.Count > 0)
        {
            console.MarkupLine($"[yellow]Skipped {bad.Count} image(s) that do not decode completely (--skip-corrupt)[/]: " +
                Markup.Escape(string.Join("; ", bad.Take(3).Select(b => $"'{b.Path}': {b.Problem}")) + (bad.Count > 3 ? "; ..." : "")));
        }
        if (resized > 0 && policy is not null)
            console.MarkupLine(Markup.Escape($"{resized} image(s) are not {policy.InputSize}x{policy.InputSize}: resized to the model input{(policy.Resize ? " (--resize)" : " (face crops of another size)")}."));
        return kept;
    }

    /// <summary>One image file, or every image under a folder (recursively), sorted by ordinal path.</summary>
    public static List<string> FindImages(string fileOrFolder)
    {
        if (File.Exists(fileOrFolder))
            return [Path.GetFullPath(fileOrFolder)];
        if (!Directory.Exists(fileOrFolder))
            throw new CliException($"Images path '{fileOrFolder}' is neither a file nor a folder.");
        var files = Directory.EnumerateFiles(Path.GetFullPath(fileOrFolder), "*", SearchOption.AllDirectories)
            .Where(IsImage).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new CliException($"Images folder '{fileOrFolder}' has no .png, .jpg or .jpeg files.");
        return files;
    }

    /// <summary>
    /// Decodes <paramref name="path"/> and resizes it to <paramref name="size"/> x <paramref name="size"/> (bilinear with
    /// mipmaps when shrinking; unchanged at that size already), as RGBA bytes. Callers have applied <see cref="ImagePolicy"/>.
    /// </summary>
    public static byte[] LoadRgba(string path, int size)
    {
        using var decoded = SKBitmap.Decode(path) ?? throw new CliException($"Image '{path}' cannot be decoded.");
        using var rgba = decoded.Copy(SKColorType.Rgba8888) ?? throw new CliException($"Image '{path}' cannot be converted to RGBA.");
        if (rgba.Width == size && rgba.Height == size)
            return rgba.Bytes;
        using var resized = rgba.Resize(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul), SKFilterQuality.Medium)
            ?? throw new CliException($"Image '{path}' cannot be resized to {size}x{size}.");
        return resized.Bytes;
    }

    /// <summary><see cref="LoadRgba"/> as an <see cref="MLImage"/> of the model input size.</summary>
    public static MLImage LoadCrop(string path, int size) => MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, LoadRgba(path, size));

    /// <summary><see cref="LoadRgba"/> as planar RGB floats in 0..255 (all red, then green, then blue).</summary>
    public static float[] LoadPlanar(string path, int size)
    {
        using var image = LoadCrop(path, size);
        return Microsoft.ML.LH2Face.Data.Embedding.PlanarImage.FromImage(image, size);
    }
}

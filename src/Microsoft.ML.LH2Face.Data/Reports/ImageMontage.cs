using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Reports;

/// <summary>
/// A PNG grid of image tiles under a row of column titles, drawn with SkiaSharp 2.88: e.g. the
/// renderer's input | reconstruction | canonical face | depth for a few images. Tiles are planar
/// float RGB in 0..255 (3 * s * s values) or grey (s * s values), of any side s; each is scaled to
/// the tile size with nearest-neighbour sampling, so every rendered pixel stays visible as it is.
/// </summary>
public static class ImageMontage
{
    /// <summary>Gap between tiles in pixels.</summary>
    public const int Gap = 2;

    /// <summary>Height of the title row in pixels.</summary>
    public const int TitleHeight = 18;

    /// <summary>Width and height of the montage of <paramref name="rows"/> x <paramref name="columns"/> tiles of <paramref name="tileSize"/> pixels.</summary>
    public static (int Width, int Height) Size(int rows, int columns, int tileSize)
        => (columns * (tileSize + Gap) + Gap, TitleHeight + rows * (tileSize + Gap) + Gap);

    /// <summary>
    /// Writes the montage to <paramref name="path"/> (through a temporary file in the same folder, then
    /// moved into place) and returns its width and height in pixels. Every row must have one tile per title.
    /// </summary>
    public static (int Width, int Height) Write(string path, IReadOnlyList<string> titles, IReadOnlyList<IReadOnlyList<float[]>> rows, int tileSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(titles);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 8);
        if (titles.Count == 0 || rows.Count == 0)
            throw new ArgumentException("A montage needs at least one column title and one row of tiles.", nameof(rows));
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot write the montage '{path}': folder '{directory}' does not exist.");
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r] is null || rows[r].Count != titles.Count)
                throw new ArgumentException($"Row {r} of the montage has {rows[r]?.Count ?? 0} tiles; give one per column title ({titles.Count}).", nameof(rows));
        }

        var (width, height) = Size(rows.Count, titles.Count, tileSize);
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var text = new SKPaint { Color = SKColors.Black, TextSize = 12, IsAntialias = true };
            using var sampling = new SKPaint { FilterQuality = SKFilterQuality.None };
            for (int c = 0; c < titles.Count; c++)
            {
                float x = Gap + c * (tileSize + Gap);
                canvas.Save();
                canvas.ClipRect(new SKRect(x, 0, x + tileSize, TitleHeight));
                canvas.DrawText(titles[c], x + Math.Max(0, (tileSize - text.MeasureText(titles[c])) / 2), TitleHeight - 5, text);
                canvas.Restore();
            }
            for (int r = 0; r < rows.Count; r++)
            {
                for (int c = 0; c < titles.Count; c++)
                {
                    using var tile = ToBitmap(rows[r][c], r, c);
                    float x = Gap + c * (tileSize + Gap), y = TitleHeight + r * (tileSize + Gap);
                    canvas.DrawBitmap(tile, new SKRect(x, y, x + tileSize, y + tileSize), sampling);
                }
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode the montage '{path}' as PNG.");
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, data.ToArray());
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
        return (width, height);
    }

    /// <summary>
    /// A depth map (distance from the camera: smaller is nearer) as a grey tile 0..255, stretched
    /// between its own nearest (white) and farthest (black) value so that the shape shows whatever the
    /// depth range; a flat map is mid grey.
    /// </summary>
    public static float[] DepthToGrey(ReadOnlySpan<float> depth)
    {
        if (depth.IsEmpty)
            throw new ArgumentException("The depth map is empty.", nameof(depth));
        float near = float.PositiveInfinity, far = float.NegativeInfinity;
        foreach (var d in depth)
        {
            near = MathF.Min(near, d);
            far = MathF.Max(far, d);
        }
        var grey = new float[depth.Length];
        for (int i = 0; i < depth.Length; i++)
            grey[i] = far > near ? 255f * (far - depth[i]) / (far - near) : 128f;
        return grey;
    }

    private static SKBitmap ToBitmap(float[] tile, int row, int column)
    {
        if (tile is null || tile.Length == 0)
            throw new ArgumentException($"Tile ({row}, {column}) of the montage is empty.", nameof(tile));
        int side = (int)Math.Round(Math.Sqrt(tile.Length));
        int channels = side * side == tile.Length ? 1 : 3;
        if (channels == 3)
        {
            side = (int)Math.Round(Math.Sqrt(tile.Length / 3.0));
            if (3 * side * side != tile.Length)
                throw new ArgumentException($"Tile ({row}, {column}) of the montage has {tile.Length} values: give planar RGB (3 * s * s) or grey (s * s).", nameof(tile));
        }
        int plane = side * side;
        var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[4 * plane];
        for (int p = 0; p < plane; p++)
        {
            pixels[4 * p] = ToByte(tile[p]);
            pixels[4 * p + 1] = ToByte(tile[channels == 3 ? plane + p : p]);
            pixels[4 * p + 2] = ToByte(tile[channels == 3 ? 2 * plane + p : p]);
            pixels[4 * p + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(float.IsFinite(v) ? v : 0), 0, 255);
}

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>Writes a contact sheet: one row per identity, the frontal render first, then its images.</summary>
public static class SynthFaceContactSheet
{
    /// <summary>
    /// Renders identities <paramref name="firstIdentity"/> .. +<paramref name="identities"/> with
    /// <paramref name="variations"/> images each and saves the grid as a PNG at <paramref name="path"/>.
    /// Returns the sheet's width and height in pixels.
    /// </summary>
    public static (int Width, int Height) Write(string path, SynthFaceGenerator generator, int identities, int variations, int firstIdentity = 0)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(identities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(variations, 0);
        int size = generator.ImageSize, gap = 2;
        int cols = variations + 1;
        int width = cols * (size + gap) + gap, height = identities * (size + gap) + gap;
        var sheet = new byte[width * height * 3];
        Array.Fill(sheet, (byte)255);
        Parallel.For(0, identities, r =>
        {
            for (int c = 0; c < cols; c++)
            {
                ReadOnlySpan<byte> tile = c == 0 ? generator.RenderFrontal(firstIdentity + r).Span : generator.Generate(firstIdentity + r, c - 1).Rgb;
                for (int y = 0; y < size; y++)
                {
                    int dst = 3 * ((gap + r * (size + gap) + y) * width + gap + c * (size + gap));
                    tile.Slice(3 * y * size, 3 * size).CopyTo(sheet.AsSpan(dst, 3 * size));
                }
            }
        });
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        using var image = SynthFaceSample.ToImage(sheet, width, height);
        image.Save(path);
        return (width, height);
    }
}

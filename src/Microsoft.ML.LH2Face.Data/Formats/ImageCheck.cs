using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// Decodes an image completely to tell whether it can be trained on or scored: ML.NET's image loader (SkiaSharp)
/// accepts a truncated PNG or JPEG and fills what is missing, so a damaged file would otherwise be used with no
/// sign. The same decoder reads the images later, so what passes here loads there.
/// </summary>
public static class ImageCheck
{
    /// <summary>Why the image file cannot be used, or null when it decodes completely.</summary>
    /// <param name="path">An image file.</param>
    public static string? Problem(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"it cannot be read ({e.Message})";
        }
        return Problem(bytes);
    }

    /// <summary>Why the encoded image cannot be used, or null when it decodes completely.</summary>
    /// <param name="encoded">The bytes of a PNG, JPEG or other image file.</param>
    public static string? Problem(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length == 0)
            return "the file is empty (0 bytes)";
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            return $"it is not an image this reader decodes (PNG, JPEG, BMP, GIF, WebP); its first bytes are {Convert.ToHexString(encoded[..Math.Min(8, encoded.Length)])}";
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
            return $"its header gives a size of {info.Width} x {info.Height}";
        using var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        return result switch
        {
            SKCodecResult.Success => null,
            SKCodecResult.IncompleteInput => $"its image data ends early (a truncated {codec.EncodedFormat} file: {encoded.Length} bytes)",
            SKCodecResult.ErrorInInput => $"its {codec.EncodedFormat} data is corrupt",
            _ => $"it cannot be decoded ({result})",
        };
    }
}

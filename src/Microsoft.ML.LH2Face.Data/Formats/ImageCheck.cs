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
    public static string? Problem(string path) => Problem(path, out _, out _);

    /// <summary>Why the image file cannot be used, or null when it decodes completely; then its size in pixels.</summary>
    /// <param name="path">An image file.</param>
    /// <param name="width">The decoded width (0 when there is a problem).</param>
    /// <param name="height">The decoded height (0 when there is a problem).</param>
    public static string? Problem(string path, out int width, out int height)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        width = height = 0;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"it cannot be read ({e.Message})";
        }
        return Problem(bytes, out width, out height);
    }

    /// <summary>Why the encoded image cannot be used, or null when it decodes completely.</summary>
    /// <param name="encoded">The bytes of a PNG, JPEG or other image file.</param>
    public static string? Problem(ReadOnlySpan<byte> encoded) => Problem(encoded, out _, out _);

    /// <summary>Why the encoded image cannot be used, or null when it decodes completely; then its size in pixels.</summary>
    public static string? Problem(ReadOnlySpan<byte> encoded, out int width, out int height)
    {
        width = height = 0;
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
        if (result == SKCodecResult.Success)
            (width, height) = (info.Width, info.Height);
        return result switch
        {
            SKCodecResult.Success => null,
            SKCodecResult.IncompleteInput => $"its image data ends early (a truncated {codec.EncodedFormat} file: {encoded.Length} bytes)",
            SKCodecResult.ErrorInInput => $"its {codec.EncodedFormat} data is corrupt",
            _ => $"it cannot be decoded ({result})",
        };
    }
}

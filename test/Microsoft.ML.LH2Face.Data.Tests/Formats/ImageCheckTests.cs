using Microsoft.ML.LH2Face.Data.Formats;
using SkiaSharp;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

[TestClass]
public sealed class ImageCheckTests
{
    /// <summary>A 64 x 64 image of noise (so the encoded data is large and a cut lands inside it), encoded as <paramref name="format"/>.</summary>
    private static byte[] Encoded(SKEncodedImageFormat format)
    {
        var random = new Random(7);
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    [TestMethod]
    [DataRow(SKEncodedImageFormat.Png)]
    [DataRow(SKEncodedImageFormat.Jpeg)]
    public void Problem_CompleteImage_IsNull(SKEncodedImageFormat format)
        => Assert.IsNull(ImageCheck.Problem(Encoded(format)));

    [TestMethod]
    [DataRow(SKEncodedImageFormat.Png, "a truncated Png file")]
    [DataRow(SKEncodedImageFormat.Jpeg, "a truncated Jpeg file")]
    public void Problem_TruncatedTo40Percent_SaysTheDataEndsEarly(SKEncodedImageFormat format, string expected)
    {
        var bytes = Encoded(format);
        var cut = bytes.AsSpan(0, bytes.Length * 4 / 10).ToArray();
        // The image loader ML.NET uses decodes the cut file without complaint: the reason for this check.
        using (var loaded = SKBitmap.Decode(cut))
            Assert.IsNotNull(loaded, "SkiaSharp's plain decode accepts the truncated file");
        var problem = ImageCheck.Problem(cut);
        Assert.IsNotNull(problem);
        StringAssert.Contains(problem, "its image data ends early");
        StringAssert.Contains(problem, expected);
    }

    [TestMethod]
    public void Problem_EmptyOrNotAnImage_SaysWhat()
    {
        Assert.AreEqual("the file is empty (0 bytes)", ImageCheck.Problem(ReadOnlySpan<byte>.Empty));
        var text = "not an image at all"u8.ToArray();
        StringAssert.StartsWith(ImageCheck.Problem(text), "it is not an image this reader decodes");
        StringAssert.EndsWith(ImageCheck.Problem(text), "its first bytes are 6E6F7420616E2069");
    }

    [TestMethod]
    public void Problem_File_ReadsAndChecksIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lh2face-imagecheck-{Guid.NewGuid():N}.png");
        try
        {
            var bytes = Encoded(SKEncodedImageFormat.Png);
            File.WriteAllBytes(path, bytes);
            Assert.IsNull(ImageCheck.Problem(path));
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
            StringAssert.Contains(ImageCheck.Problem(path), "ends early");
            File.Delete(path);
            StringAssert.StartsWith(ImageCheck.Problem(path), "it cannot be read");
        }
        finally
        {
            File.Delete(path);
        }
    }
}

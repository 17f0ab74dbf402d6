using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Reports;

namespace Microsoft.ML.LH2Face.Data.Tests.Reports;

[TestClass]
public sealed class ImageMontageTests
{
    [TestMethod]
    public void Write_RgbAndGreyTiles_PngOfTheGridWithEachTileScaledNearest()
    {
        // Row 0: a 2x2 RGB tile (red, green / blue, white) and a 4x4 grey ramp; row 1: flat grey and flat RGB.
        float[] rgb = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255];
        float[] ramp = Enumerable.Range(0, 16).Select(i => 17f * i).ToArray();
        float[] flatGrey = Enumerable.Repeat(100f, 4).ToArray();
        float[] flatRgb = Enumerable.Repeat(50f, 12).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"lh2face-montage-{Guid.NewGuid():N}.png");
        try
        {
            var (width, height) = ImageMontage.Write(path, ["a", "b"], [[rgb, ramp], [flatGrey, flatRgb]], tileSize: 8);
            Assert.AreEqual((2 * 10 + 2, ImageMontage.TitleHeight + 2 * 10 + 2), (width, height));
            Assert.AreEqual(0, Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}.*.tmp").Length, "no temporary file left");
            using var png = MLImage.CreateFromFile(path);
            Assert.AreEqual((width, height), (png.Width, png.Height));
            (byte R, byte G, byte B) At(int x, int y)
            {
                var p = png.Pixels;
                int i = 4 * (y * width + x);
                return png.PixelFormat == MLPixelFormat.Bgra32 ? (p[i + 2], p[i + 1], p[i]) : (p[i], p[i + 1], p[i + 2]);
            }
            int top = ImageMontage.TitleHeight, left = ImageMontage.Gap;
            // Nearest scaling x4: tile pixel (1, 0) is green at 4..7, (0, 1) blue, (1, 1) white.
            Assert.AreEqual(((byte)255, (byte)0, (byte)0), At(left + 1, top + 1));
            Assert.AreEqual(((byte)0, (byte)255, (byte)0), At(left + 6, top + 1));
            Assert.AreEqual(((byte)0, (byte)0, (byte)255), At(left + 1, top + 6));
            Assert.AreEqual(((byte)255, (byte)255, (byte)255), At(left + 6, top + 6));
            // Grey ramp x2: tile pixel (3, 3) = 255, (0, 0) = 0, (1, 0) = 17.
            int left2 = left + 10;
            Assert.AreEqual(((byte)0, (byte)0, (byte)0), At(left2, top));
            Assert.AreEqual(((byte)17, (byte)17, (byte)17), At(left2 + 2, top));
            Assert.AreEqual(((byte)255, (byte)255, (byte)255), At(left2 + 7, top + 7));
            Assert.AreEqual(((byte)100, (byte)100, (byte)100), At(left + 3, top + 10 + 3));
            Assert.AreEqual(((byte)50, (byte)50, (byte)50), At(left2 + 3, top + 10 + 3));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Write_RowWithMissingTile_ThrowsNamingTheRow()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageMontage.Write(Path.Combine(Path.GetTempPath(), "x.png"), ["a", "b"], [[new float[4]]], 8));
        StringAssert.Contains(e.Message, "Row 0");
    }

    [TestMethod]
    public void DepthToGrey_NearestWhiteFarthestBlack_FlatMidGrey()
    {
        CollectionAssert.AreEqual(new float[] { 255, 127.5f, 0 }, ImageMontage.DepthToGrey([0.9f, 1.0f, 1.1f]));
        CollectionAssert.AreEqual(new float[] { 128, 128 }, ImageMontage.DepthToGrey([1f, 1f]));
    }
}

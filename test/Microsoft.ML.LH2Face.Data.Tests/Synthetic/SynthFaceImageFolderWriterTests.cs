using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceImageFolderWriterTests
{
    [TestMethod]
    public void Write_Folder_HasIdentityFoldersPngsAndMetadataFieldByField()
    {
        var parent = Directory.CreateTempSubdirectory("synthface-").FullName;
        try
        {
            var g = new SynthFaceGenerator(new SynthFaceOptions { Seed = 8, ImageSize = 48, LookAlikeRate = 0.5 });
            var root = Path.Combine(parent, "set");
            int written = SynthFaceImageFolderWriter.Write(root, g, identities: 3, imagesPerIdentity: 4, firstIdentity: 2);
            Assert.AreEqual(12, written);
            CollectionAssert.AreEqual(new[] { "set" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray(), "no temporary folder is left");
            CollectionAssert.AreEqual(new[] { "00002", "00003", "00004" }, Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
            CollectionAssert.AreEqual(new[] { "0000.png", "0001.png", "0002.png", "0003.png" },
                Directory.GetFiles(Path.Combine(root, "00003")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());

            var lines = File.ReadAllLines(Path.Combine(root, SynthFaceImageFolderWriter.MetadataFileName));
            var header = lines[0].Split(',');
            CollectionAssert.AreEqual(SynthFaceImageFolderWriter.MetadataColumns.ToArray(), header);
            Assert.AreEqual(13, lines.Length);
            int Col(string name) => Array.IndexOf(header, name);
            double D(string[] f, string name) => double.Parse(f[Col(name)], CultureInfo.InvariantCulture);
            for (int r = 0; r < 12; r++)
            {
                var fields = lines[r + 1].Split(',');
                Assert.HasCount(header.Length, fields);
                int identity = 2 + r / 4, sample = r % 4;
                var expected = g.Generate(identity, sample);
                var f = expected.Factors;
                Assert.AreEqual($"{identity:D5}/{sample:D4}.png", fields[Col("path")]);
                Assert.AreEqual(identity, int.Parse(fields[Col("identity")], CultureInfo.InvariantCulture));
                Assert.AreEqual(sample, int.Parse(fields[Col("sample")], CultureInfo.InvariantCulture));
                Assert.AreEqual(g.GetIdentity(identity).LookAlikeOf?.ToString(CultureInfo.InvariantCulture) ?? "", fields[Col("look_alike_of")]);
                Assert.AreEqual(f.Quality.ToString(), fields[Col("quality")]);
                Assert.AreEqual(f.Hardness.ToString(), fields[Col("hardness")]);
                Assert.AreEqual(f.Session, int.Parse(fields[Col("session")], CultureInfo.InvariantCulture));
                Assert.AreEqual(f.Yaw, D(fields, "yaw"));
                Assert.AreEqual(f.Pitch, D(fields, "pitch"));
                Assert.AreEqual(f.Roll, D(fields, "roll"));
                Assert.AreEqual(f.Smile, D(fields, "smile"));
                Assert.AreEqual(f.MouthOpen, D(fields, "mouth_open"));
                Assert.AreEqual(f.EyesClosed, D(fields, "eyes_closed"));
                Assert.AreEqual(f.BrowsRaised, D(fields, "brows_raised"));
                Assert.AreEqual(f.LightAzimuth, D(fields, "light_azimuth"));
                Assert.AreEqual(f.Ambient, D(fields, "ambient"));
                Assert.AreEqual(f.LightColor.X, D(fields, "light_r"), 1e-6);
                Assert.AreEqual(f.BackgroundB.Z, D(fields, "background_b_b"), 1e-6);
                Assert.AreEqual(f.JitterScale, D(fields, "jitter_scale"));
                Assert.AreEqual(f.Occluder.ToString(), fields[Col("occluder")]);
                Assert.AreEqual(f.Degradation.ExposureGain, D(fields, "exposure_gain"));
                Assert.AreEqual(f.Degradation.GaussianBlurSigma, D(fields, "gaussian_blur_sigma"));
                Assert.AreEqual(f.Degradation.DownsampleSize, (int)D(fields, "downsample_size"));
                Assert.AreEqual(f.Degradation.JpegQuality, (int)D(fields, "jpeg_quality"));
                Assert.AreEqual(expected.Landmarks[4], D(fields, "nose_x"), 1e-5);
                Assert.AreEqual(expected.Landmarks[9], D(fields, "right_mouth_y"), 1e-5);

                using var image = MLImage.CreateFromFile(Path.Combine(root, fields[Col("path")]));
                Assert.AreEqual(48, image.Width);
                Assert.AreEqual(48, image.Height);
                var pixels = image.Pixels.ToArray();
                int stride = pixels.Length / (48 * 48);
                // PNG is lossless: the file holds exactly the generated pixels (channel order depends on the image's pixel format).
                var expectedSum = expected.Rgb.Sum(b => (long)b);
                long sum = 0;
                for (int p = 0; p < 48 * 48; p++) sum += pixels[p * stride] + pixels[p * stride + 1] + pixels[p * stride + 2];
                Assert.AreEqual(expectedSum, sum, $"row {r}");
            }
            Assert.ThrowsExactly<IOException>(() => SynthFaceImageFolderWriter.Write(root, g, 1, 1));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}

using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;
using Microsoft.ML.LH2Face.Data.Synthetic;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceExportTests
{
    private static readonly Lazy<SynthFaceProtocol> SmallProtocol = new(() => SynthFaceProtocol.Create(new SynthFaceProtocolOptions
    {
        TrainIdentities = 4,
        TrainImagesPerIdentity = 3,
        TestIdentities = 6,
        TestImagesPerIdentity = 8,
        PairsPerStratum = 10,
        TemplatesPerIdentity = 2,
        MediaPerTemplate = 1,
        ImagesPerMedia = 2,
        TemplateImpostorsPerGenuine = 2,
    }));

    private static string NewParent() => Directory.CreateTempSubdirectory("synthface-export-").FullName;

    private static (int Width, int Height) Decode(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        using var image = MLImage.CreateFromStream(stream);
        return (image.Width, image.Height);
    }

    [TestMethod]
    public void WriteRecordIo_RoundTrip_KeysLabelsImagesAndProperty()
    {
        var parent = NewParent();
        try
        {
            var folder = Path.Combine(parent, "pack");
            var generator = new SynthFaceGenerator(SmallProtocol.Value.TrainOptions);
            var reports = new List<int>();
            int written = SynthFaceExport.WriteRecordIo(folder, generator, identities: 4, imagesPerIdentity: 3, new SyncProgress(reports));
            Assert.AreEqual(12, written);
            CollectionAssert.AreEqual(new[] { 3, 6, 9, 12 }, reports);
            CollectionAssert.AreEqual(new[] { "pack" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray(), "no temporary folder is left");
            CollectionAssert.AreEquivalent(new[] { "property", "train.idx", "train.rec" }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray());
            Assert.AreEqual("4,112,112", File.ReadAllText(Path.Combine(folder, "property")));

            using var reader = InsightFaceRecordReader.Open(folder);
            Assert.AreEqual(4, reader.NumClasses);
            CollectionAssert.AreEqual(Enumerable.Range(1, 12).Select(k => (long)k).ToArray(), reader.ImageKeys.ToArray());
            var records = reader.Enumerate().ToArray();
            Assert.HasCount(12, records);
            for (int k = 0; k < records.Length; k++)
            {
                Assert.AreEqual(k + 1L, records[k].Key);
                Assert.AreEqual(k / 3, records[k].Label);
                Assert.IsTrue(records[k].Image is [0xFF, 0xD8, ..], $"record {k + 1} is JPEG");
                Assert.AreEqual((112, 112), Decode(records[k].Image));
            }
            // The JPEG is the generator's image up to compression loss.
            using var stream = new MemoryStream(records[4].Image);
            using var decoded = MLImage.CreateFromStream(stream);
            var expected = generator.Generate(1, 1).Rgb;
            var rgb = ToRgb(decoded);
            double error = 0;
            for (int i = 0; i < expected.Length; i++)
                error += Math.Abs(expected[i] - rgb[i]);
            Assert.IsLessThan(4.0, error / expected.Length, "mean absolute JPEG error per channel");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void WriteVerificationBin_RoundTrip_PairsIsSameImagesAndStrata()
    {
        var parent = NewParent();
        try
        {
            var protocol = SmallProtocol.Value;
            var path = Path.Combine(parent, "synth.bin");
            var strata = SynthFaceExport.WriteVerificationBin(path, protocol);
            CollectionAssert.AreEqual(protocol.Pairs.Select(p => p.Stratum).ToArray(), strata.ToArray());
            CollectionAssert.AreEquivalent(new[] { "synth.bin", "synth.bin.strata.csv" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray());

            var read = VerificationPairs.Read(path);
            Assert.AreEqual(protocol.Pairs.Count, read.Count);
            Assert.AreEqual(30, read.Count);
            CollectionAssert.AreEqual(protocol.Pairs.Select(p => p.IsSame).ToArray(), read.Pairs.Select(p => p.IsSame).ToArray());
            foreach (var pair in read.Pairs)
            {
                Assert.AreEqual((112, 112), Decode(pair.ImageA));
                Assert.AreEqual((112, 112), Decode(pair.ImageB));
            }
            // The same (identity, sample) gives the same bytes wherever it appears.
            var first = new Dictionary<(int, int), byte[]>();
            for (int k = 0; k < read.Count; k++)
            {
                var p = protocol.Pairs[k];
                foreach (var (key, bytes) in new[] { ((p.IdentityA, p.SampleA), read.Pairs[k].ImageA), ((p.IdentityB, p.SampleB), read.Pairs[k].ImageB) })
                {
                    if (first.TryGetValue(key, out var seen)) CollectionAssert.AreEqual(seen, bytes);
                    else first[key] = bytes;
                }
            }

            var lines = File.ReadAllLines(SynthFaceExport.StrataPath(path));
            Assert.AreEqual(SynthFaceExport.StrataHeader, lines[0]);
            Assert.HasCount(protocol.Pairs.Count + 1, lines);
            for (int k = 0; k < protocol.Pairs.Count; k++)
            {
                var p = protocol.Pairs[k];
                Assert.AreEqual(string.Create(CultureInfo.InvariantCulture, $"{k},{p.Stratum},{p.Kind},{(p.IsSame ? 1 : 0)}"), lines[k + 1]);
            }
            foreach (var stratum in Enum.GetValues<SynthFaceStratum>())
                Assert.AreEqual(10, strata.Count(s => s == stratum));

            var again = Assert.ThrowsExactly<IOException>(() => SynthFaceExport.WriteVerificationBin(path, protocol));
            StringAssert.Contains(again.Message, path);
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void WriteIjb_RoundTrip_FacesTemplatesLandmarksAndPairs()
    {
        var parent = NewParent();
        try
        {
            var protocol = SmallProtocol.Value;
            var root = Path.Combine(parent, "ijb");
            int written = SynthFaceExport.WriteIjb(root, protocol, IjbVariant.IjbC);
            var expected = protocol.Templates.SelectMany(t => t.Samples.Select((s, k) => (t.Id, t.Identity, Sample: s, Media: t.Media[k]))).ToArray();
            Assert.AreEqual(expected.Length, written);
            Assert.AreEqual(6 * 2 * 2, written);
            CollectionAssert.AreEqual(new[] { "ijb" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray(), "no temporary folder is left");

            var meta = IjbMeta.Read(root, IjbVariant.IjbC);
            Assert.HasCount(expected.Length, meta.Faces);
            var generator = new SynthFaceGenerator(protocol.TestOptions);
            for (int i = 0; i < expected.Length; i++)
            {
                var face = meta.Faces[i];
                Assert.AreEqual(SynthFaceExport.IjbImageName(i), face.ImageName);
                Assert.AreEqual(expected[i].Id, face.TemplateId);
                Assert.AreEqual(expected[i].Media, face.MediaId);
                Assert.AreEqual(1f, face.Faceness);
                var sample = generator.Generate(expected[i].Identity, expected[i].Sample);
                CollectionAssert.AreEqual(sample.Landmarks, face.Landmarks);
                var path = meta.ImagePath(face);
                Assert.IsTrue(File.Exists(path), path);
                var bytes = File.ReadAllBytes(path);
                Assert.IsTrue(bytes is [0x89, (byte)'P', (byte)'N', (byte)'G', ..], $"{path} is PNG");
                if (i < 2)
                {
                    // PNG is lossless: the crop is the rendered image pixel for pixel.
                    using var image = MLImage.CreateFromFile(path);
                    Assert.AreEqual((112, 112), (image.Width, image.Height));
                    CollectionAssert.AreEqual(sample.Rgb, ToRgb(image), $"{path} holds the rendered sample pixel for pixel");
                }
            }
            CollectionAssert.AreEqual(
                protocol.TemplatePairs.Select(p => new IjbTemplatePair(p.TemplateA, p.TemplateB, p.IsSame ? 1 : 0)).ToArray(),
                meta.TemplatePairs.ToArray());
            Assert.IsTrue(meta.TemplatePairs.Any(p => p.Label == 1) && meta.TemplatePairs.Any(p => p.Label == 0));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestMethod]
    public void Writers_RefuseNonEmptyTargetsAndBadArguments_NamingThePath()
    {
        var parent = NewParent();
        try
        {
            var generator = new SynthFaceGenerator(new SynthFaceOptions { Seed = 3 });
            var busy = Directory.CreateDirectory(Path.Combine(parent, "busy")).FullName;
            File.WriteAllText(Path.Combine(busy, "keep.txt"), "x");
            var e = Assert.ThrowsExactly<IOException>(() => SynthFaceExport.WriteRecordIo(busy, generator, 1, 1));
            StringAssert.Contains(e.Message, busy);
            e = Assert.ThrowsExactly<IOException>(() => SynthFaceExport.WriteIjb(busy, SmallProtocol.Value));
            StringAssert.Contains(e.Message, busy);
            var file = Path.Combine(busy, "keep.txt");
            e = Assert.ThrowsExactly<IOException>(() => SynthFaceExport.WriteVerificationBin(file, SmallProtocol.Value));
            StringAssert.Contains(e.Message, file);
            CollectionAssert.AreEqual(new[] { "keep.txt" }, Directory.GetFileSystemEntries(busy).Select(Path.GetFileName).ToArray());

            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SynthFaceExport.WriteRecordIo(Path.Combine(parent, "x"), generator, 0, 1));
            Assert.ThrowsExactly<ArgumentNullException>(() => SynthFaceExport.WriteRecordIo(Path.Combine(parent, "x"), null!, 1, 1));
            var bad = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SynthFaceExport.WriteVerificationBin(Path.Combine(parent, "v.bin"), SmallProtocol.Value, protocolVersion: 9));
            StringAssert.Contains(bad.Message, "v.bin");

            // An existing empty folder is a valid target.
            var empty = Directory.CreateDirectory(Path.Combine(parent, "empty")).FullName;
            Assert.AreEqual(2, SynthFaceExport.WriteRecordIo(empty, generator, 1, 2));
            Assert.IsTrue(File.Exists(Path.Combine(empty, "train.rec")));
            CollectionAssert.AreEquivalent(new[] { "busy", "empty" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).ToArray());
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    private static byte[] ToRgb(MLImage image)
    {
        var pixels = image.Pixels;
        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        var rgb = new byte[image.Width * image.Height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = pixels[bgra ? j + 2 : j];
            rgb[i + 1] = pixels[j + 1];
            rgb[i + 2] = pixels[bgra ? j : j + 2];
        }
        return rgb;
    }

    private sealed class SyncProgress(List<int> reports) : IProgress<int>
    {
        public void Report(int value) => reports.Add(value);
    }
}

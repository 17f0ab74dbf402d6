using Microsoft.ML.LH2Face.Data.Formats;

namespace LH2Face.Cli.Tests;

[TestClass]
public sealed class GenerateCommandTests
{
    private string root = "";

    [TestInitialize]
    public void CreateFolder() => root = Directory.CreateTempSubdirectory("lh2face-generate-tests-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    private string Generate(string format, string name)
    {
        var path = Path.Combine(root, name);
        var output = new StringWriter();
        Assert.AreEqual(0, CliApp.Run(["generate", "--out", path, "--format", format, "--preset", "tiny"], FaceFolder.Console(output), CancellationToken.None), output.ToString());
        return path;
    }

    [TestMethod]
    public void Generate_EachFormat_IsReadByItsReader()
    {
        // tiny: 20 train identities x 8 images; 12 test identities; 30 pairs per stratum.
        var folder = new ImageFolderReader(Generate("Folder", "folder"));
        Assert.AreEqual(20, folder.Identities.Count);
        Assert.AreEqual(160, folder.Entries.Count);

        using (var rec = InsightFaceRecordReader.Open(Generate("RecordIo", "rec")))
        {
            Assert.AreEqual(20, rec.NumClasses);
            Assert.AreEqual(160, rec.ImageKeys.Count);
        }

        var bin = Generate("Bin", "pairs.bin");
        var pairs = VerificationPairs.Read(bin);
        Assert.AreEqual(90, pairs.Count);
        Assert.AreEqual(91, File.ReadAllLines(bin + ".strata.csv").Length, "header + one line per pair");

        var ijb = IjbMeta.Read(Generate("Ijb", "ijb"), IjbVariant.IjbB);
        Assert.IsTrue(ijb.Faces.Count > 0 && ijb.TemplatePairs.Any(p => p.Label == 1) && ijb.TemplatePairs.Any(p => p.Label == 0));
        Assert.IsTrue(ijb.Faces.All(f => File.Exists(ijb.ImagePath(f))));

        var sheet = File.ReadAllBytes(Generate("Sheet", "sheet.png"));
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, sheet[..4]);
    }

    [TestMethod]
    public void Generate_UnknownPreset_OneLineError()
    {
        var output = new StringWriter();
        Assert.AreEqual(1, CliApp.Run(["generate", "--out", Path.Combine(root, "x"), "--preset", "huge"], FaceFolder.Console(output), CancellationToken.None));
        StringAssert.Contains(output.ToString(), "SynthFace preset 'huge' is unknown: use small, full or tiny.");
    }
}

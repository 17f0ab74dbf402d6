using Microsoft.ML.LH2Face.Testing;

namespace Microsoft.ML.LH2Face.Data.Tests;

[TestClass]
public sealed class BlobFacesTests
{
    [TestMethod]
    public void Rgba_SameSeed_SameBytes_OtherIdentityOrSample_Differs()
    {
        var a = BlobFaces.Rgba(3, 1, 24, seed: 5);
        CollectionAssert.AreEqual(a, BlobFaces.Rgba(3, 1, 24, seed: 5));
        Assert.AreEqual(24 * 24 * 4, a.Length);
        Assert.IsTrue(a.Where((_, i) => i % 4 == 3).All(v => v == 255), "opaque");
        CollectionAssert.AreNotEqual(a, BlobFaces.Rgba(4, 1, 24, seed: 5));
        CollectionAssert.AreNotEqual(a, BlobFaces.Rgba(3, 2, 24, seed: 5));
    }

    [TestMethod]
    public void Write_Folder_HasIdentitySubfoldersOfPngs()
    {
        var root = Directory.CreateTempSubdirectory("blobfaces-").FullName;
        try
        {
            var paths = BlobFaces.Write(root, identities: 3, samples: 2, size: 16);
            Assert.AreEqual(6, paths.Count);
            CollectionAssert.AreEqual(new[] { "id000", "id001", "id002" }, Directory.GetDirectories(root).Select(Path.GetFileName).Order().ToArray());
            using var image = Microsoft.ML.Data.MLImage.CreateFromFile(paths[0]);
            Assert.AreEqual(16, image.Width);
            Assert.AreEqual(16, image.Height);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

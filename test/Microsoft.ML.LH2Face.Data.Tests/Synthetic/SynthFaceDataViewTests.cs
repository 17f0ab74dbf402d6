using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Synthetic;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Data.Tests.Synthetic;

[TestClass]
public sealed class SynthFaceDataViewTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Create_Schema_HasImageKeyLabelAndFactors_RowsInOrder()
    {
        var ml = new MLContext(seed: 1);
        var g = new SynthFaceGenerator(new SynthFaceOptions { Seed = 4, ImageSize = 40 });
        var view = SynthFaceDataView.Create(ml, g, identities: 3, imagesPerIdentity: 5, firstIdentity: 1, batchSize: 4);
        Assert.AreEqual(new ImageDataViewType(40, 40), view.Schema["Image"].Type);
        var key = (KeyDataViewType)view.Schema["Label"].Type;
        Assert.AreEqual(3UL, key.Count);
        Assert.AreEqual(10, ((VectorDataViewType)view.Schema["Landmarks"].Type).Size);

        var rows = ml.Data.CreateEnumerable<SynthFaceRow>(view, reuseRowObject: false).ToList();
        Assert.HasCount(15, rows);
        CollectionAssert.AreEqual(new uint[] { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3 }, view.GetColumn<uint>("Label").ToArray(), "raw key values are 1-based");
        CollectionAssert.AreEqual(new uint[] { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3 }, rows.Select(r => r.Label).ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(0, 15).Select(k => 1 + k / 5).ToArray(), rows.Select(r => r.Identity).ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(0, 15).Select(k => k % 5).ToArray(), rows.Select(r => r.Sample).ToArray());
        var row = rows[7];
        var expected = g.Generate(row.Identity, row.Sample);
        Assert.AreEqual(expected.Factors.Yaw, row.Yaw, 1e-5);
        Assert.AreEqual(expected.Quality.ToString(), row.Quality);
        Assert.AreEqual(expected.Hardness.ToString(), row.Hardness);
        CollectionAssert.AreEqual(expected.Landmarks, row.Landmarks);
        using var image = row.Image!;
        Assert.AreEqual(40, image.Width);
        var pixels = image.Pixels.ToArray();
        int stride = pixels.Length / (40 * 40);
        long sum = 0;
        for (int p = 0; p < 40 * 40; p++) sum += pixels[p * stride] + pixels[p * stride + 1] + pixels[p * stride + 2];
        Assert.AreEqual(expected.Rgb.Sum(b => (long)b), sum);

        // A second pass renders the same rows.
        var again = ml.Data.CreateEnumerable<SynthFaceRow>(view, reuseRowObject: false).Select(r => r.Yaw).ToArray();
        CollectionAssert.AreEqual(rows.Select(r => r.Yaw).ToArray(), again);
    }

    [TestMethod]
    public void Rows_BatchSizeAndParallelism_DoNotChangeTheBytes()
    {
        var g = new SynthFaceGenerator(new SynthFaceOptions { Seed = 6, ImageSize = 32 });
        var serial = SynthFaceDataView.Rows(g, identities: 3, imagesPerIdentity: 6, batchSize: 1, maxDegreeOfParallelism: 1).ToList();
        var parallel = SynthFaceDataView.Rows(new SynthFaceGenerator(new SynthFaceOptions { Seed = 6, ImageSize = 32 }), identities: 3, imagesPerIdentity: 6, batchSize: 7).ToList();
        Assert.HasCount(18, serial);
        Assert.HasCount(18, parallel);
        for (int k = 0; k < serial.Count; k++)
        {
            Assert.AreEqual((uint)(k / 6), serial[k].Label, "rows hold the 0-based identity position");
            CollectionAssert.AreEqual(serial[k].Image!.Pixels.ToArray(), parallel[k].Image!.Pixels.ToArray(), $"row {k}");
            serial[k].Image!.Dispose();
            parallel[k].Image!.Dispose();
        }
    }
}

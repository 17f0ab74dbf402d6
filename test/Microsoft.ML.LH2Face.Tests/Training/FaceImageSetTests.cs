using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Tests.Training;

[TestClass]
public sealed class FaceImageSetTests
{
    private sealed class Row
    {
        public uint Label { get; set; }

        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    private static FaceImageSet Load(params float[][] images)
    {
        var ml = new MLContext(seed: 1);
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), 2);
        definition[nameof(Row.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, images[0].Length);
        var data = ml.Data.LoadFromEnumerable(images.Select(p => new Row { Label = 1, Pixels = p }), definition);
        return FaceImageSet.Load(data, nameof(Row.Label), nameof(Row.Pixels), inputSize: 2, long.MaxValue, "test data", CancellationToken.None);
    }

    // 2x2 planar RGB: R = [1 2; 3 4], G = [5 6; 7 8], B = [9 10; 11 12].
    private static readonly float[] Image = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    private static readonly float[] Mirrored = { 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11 };

    [TestMethod]
    public void CopyImage_ByteImage_CopiesOrMirrorsEveryChannelRow()
    {
        var set = Load(Image);
        var destination = new float[12];
        set.CopyImage(0, destination, flip: false);
        CollectionAssert.AreEqual(Image, destination);
        set.CopyImage(0, destination, flip: true);
        CollectionAssert.AreEqual(Mirrored, destination);
    }

    [TestMethod]
    public void CopyImage_NonIntegralValues_KeepsFloatsExactly()
    {
        var fractional = Image.Select(v => v + 0.25f).ToArray();
        var set = Load(Image, fractional);
        var destination = new float[12];
        set.CopyImage(0, destination, flip: false);
        CollectionAssert.AreEqual(Image, destination, "an earlier byte image converts to floats");
        set.CopyImage(1, destination, flip: true);
        CollectionAssert.AreEqual(Mirrored.Select(v => v + 0.25f).ToArray(), destination);
    }
}

using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Tests.Schema;

[TestClass]
public sealed class SchemaTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static SchemaShape ShapeOf(IEstimator<ITransformer> upstream, IDataView data)
        => upstream.GetOutputSchema(ShapeOf(data.Schema));

    private static SchemaShape ShapeOf(DataViewSchema schema) => TestFaces.ShapeOf(schema);

    [TestMethod]
    public void GetOutputSchema_BeforeFit_AddsEmbeddingAndQualityColumns()
    {
        var data = TestFaces.ImageData(Ml, TestFaces.ImageRows(2, 1, 40, 1));
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(FaceRow.Image);
        options.EmbeddingColumnName = "Emb";
        options.QualityColumnName = "Kappa";
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label", nameof(FaceRow.Identity)).Append(Ml.Transforms.LH2Face(options));
        var shape = ShapeOf(pipeline, data);
        var emb = shape.Single(c => c.Name == "Emb");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, emb.Kind);
        Assert.AreEqual(NumberDataViewType.Single, emb.ItemType);
        var kappa = shape.Single(c => c.Name == "Kappa");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, kappa.Kind);
        Assert.AreEqual(NumberDataViewType.Single, kappa.ItemType);
        Assert.IsTrue(shape.Any(c => c.Name == nameof(FaceRow.Image)), "input columns pass through");
    }

    [TestMethod]
    public void GetOutputSchema_AfterFit_EmbeddingHasEmbeddingSizeAndQualityOneValue()
    {
        var data = TestFaces.PixelData(Ml, TestFaces.PixelRows(4, 4, 32, 2), 32);
        var options = TestFaces.QuickOptions(epochs: 1, batchSize: 8);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        using var model = Ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Append(Ml.Transforms.LH2Face(options)).Fit(data);
        var schema = model.GetOutputSchema(data.Schema);
        var emb = (VectorDataViewType)schema["Embedding"].Type;
        Assert.AreEqual(32, emb.Size);
        Assert.AreEqual(1, emb.Dimensions.Length, "a flat vector, not [1, d]");
        Assert.AreEqual(1, ((VectorDataViewType)schema["Quality"].Type).Size);
    }

    [TestMethod]
    public void GetOutputSchema_MissingLabel_NamesColumnAndFix()
    {
        var data = TestFaces.ImageData(Ml, TestFaces.ImageRows(2, 1, 40, 1));
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(FaceRow.Image);
        options.LabelColumnName = "Person";
        var e = Assert.ThrowsExactly<ArgumentException>(() => Ml.Transforms.LH2Face(options).GetOutputSchema(ShapeOf(data.Schema)));
        StringAssert.Contains(e.Message, "Column 'Person' was not found");
        StringAssert.Contains(e.Message, "MapValueToKey");
    }

    [TestMethod]
    public void GetOutputSchema_LabelNotKey_SaysAddMapValueToKey()
    {
        var data = TestFaces.ImageData(Ml, TestFaces.ImageRows(2, 1, 40, 1));
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(FaceRow.Image);
        options.LabelColumnName = nameof(FaceRow.Identity);
        var e = Assert.ThrowsExactly<ArgumentException>(() => Ml.Transforms.LH2Face(options).GetOutputSchema(ShapeOf(data.Schema)));
        Assert.AreEqual("Column 'Identity' of the input must be a key type (got String): add MapValueToKey before LH2Face.", e.Message);
    }

    [TestMethod]
    public void GetOutputSchema_MissingImage_NamesColumnAndAcceptedTypes()
    {
        var data = TestFaces.ImageData(Ml, TestFaces.ImageRows(2, 1, 40, 1));
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = "Photo";
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label", nameof(FaceRow.Identity)).Append(Ml.Transforms.LH2Face(options));
        var e = Assert.ThrowsExactly<ArgumentException>(() => ShapeOf(pipeline, data));
        StringAssert.Contains(e.Message, "Column 'Photo' was not found");
        StringAssert.Contains(e.Message, "MLImage");
        StringAssert.Contains(e.Message, "3*32*32");
    }

    [TestMethod]
    public void GetOutputSchema_ImageColumnOfWrongType_NamesTypeAndFix()
    {
        var data = TestFaces.ImageData(Ml, TestFaces.ImageRows(2, 1, 40, 1));
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(FaceRow.Identity);
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label", nameof(FaceRow.Identity)).Append(Ml.Transforms.LH2Face(options));
        var e = Assert.ThrowsExactly<ArgumentException>(() => ShapeOf(pipeline, data));
        StringAssert.Contains(e.Message, "Column 'Identity' of the input must be an MLImage or a Single vector of 3*32*32 planar RGB values (got String)");
    }

    [TestMethod]
    public void Fit_PixelVectorOfWrongLength_NamesLengthsAndFix()
    {
        var data = TestFaces.PixelData(Ml, TestFaces.PixelRows(2, 2, 24, 1), 24);
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(PixelRow.Pixels);
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Append(Ml.Transforms.LH2Face(options));
        var e = Assert.ThrowsExactly<ArgumentException>(() => pipeline.Fit(data));
        StringAssert.Contains(e.Message, "Column 'Pixels' of the training data has 1728 values per row");
        StringAssert.Contains(e.Message, "3*32*32 = 3072");
        StringAssert.Contains(e.Message, "ResizeImages to 32x32");
    }

    [TestMethod]
    public void Options_Invalid_NamesOption()
    {
        var options = TestFaces.QuickOptions();
        options.BatchSize = 1;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "LH2FaceTrainer.Options.BatchSize is 1; batch norm needs at least 2.");
        options = TestFaces.QuickOptions();
        options.CheckpointEveryNSteps = 5;
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.Transforms.LH2Face(options));
        StringAssert.Contains(e.Message, "CheckpointEveryNSteps needs a CheckpointDirectory");
    }

    [TestMethod]
    public void Transform_ScoringDataWithWrongPixelLength_Throws()
    {
        var data = TestFaces.PixelData(Ml, TestFaces.PixelRows(4, 4, 32, 2), 32);
        var options = TestFaces.QuickOptions(epochs: 1, batchSize: 8);
        options.ImageColumnName = nameof(PixelRow.Pixels);
        using var face = Ml.Transforms.LH2Face(options).Fit(Ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(data).Transform(data));
        var wrong = TestFaces.PixelData(Ml, TestFaces.PixelRows(1, 1, 24, 2), 24);
        var e = Assert.ThrowsExactly<ArgumentException>(() => face.Transform(wrong));
        StringAssert.Contains(e.Message, "has 1728 values per row");
    }
}

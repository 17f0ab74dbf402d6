namespace Microsoft.ML.LH2Face.Tests.Schema;

[TestClass]
public sealed class OptionsSetTests
{
    [TestMethod]
    public void Set_EachKindOfSetting_ParsesInvariantText()
    {
        var o = new LH2FaceTrainer.Options()
            .Set("MarginCoefficient", "0.5")
            .Set("epochs", "7")
            .Set("MaxCacheBytes", "12345678901")
            .Set("Head", "arcface")
            .Set("UseRenderer", "true")
            .Set("StepMilestones", "8, 11")
            .Set("LabelColumnName", "Who");
        Assert.AreEqual(0.5f, o.MarginCoefficient);
        Assert.AreEqual(7, o.Epochs);
        Assert.AreEqual(12345678901L, o.MaxCacheBytes);
        Assert.AreEqual(LH2FaceHead.ArcFace, o.Head);
        Assert.IsTrue(o.UseRenderer);
        CollectionAssert.AreEqual(new[] { 8, 11 }, o.StepMilestones);
        Assert.AreEqual("Who", o.LabelColumnName);
    }

    [TestMethod]
    public void Set_UnknownNameOrBadValue_NamesTheSettingAndWhatItTakes()
    {
        var o = new LH2FaceTrainer.Options();
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => o.Set("MarginCoefficent", "0.5"));
        StringAssert.Contains(unknown.Message, "'MarginCoefficent' is not a setting");
        StringAssert.Contains(unknown.Message, "MarginCoefficient");
        var objectValued = Assert.ThrowsExactly<ArgumentException>(() => o.Set("ValidationSet", "x"));
        StringAssert.Contains(objectValued.Message, "'ValidationSet' is not a setting of LH2FaceTrainer.Options that takes a text value");
        var number = Assert.ThrowsExactly<ArgumentException>(() => o.Set("Epochs", "twelve"));
        StringAssert.Contains(number.Message, "Options.Epochs = 'twelve' is not a Int32");
        var enumeration = Assert.ThrowsExactly<ArgumentException>(() => o.Set("KappaScale", "Huge"));
        StringAssert.Contains(enumeration.Message, "one of Raw, Relative, Fixed");
        Assert.AreEqual(20, o.Epochs, "a failed Set leaves the setting as it was");
        CollectionAssert.Contains(LH2FaceTrainer.Options.TextSettableNames().ToList(), "KappaScale");
    }
}

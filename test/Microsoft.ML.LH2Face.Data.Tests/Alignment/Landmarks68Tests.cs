using Microsoft.ML.LH2Face.Data.Alignment;

namespace Microsoft.ML.LH2Face.Data.Tests.Alignment;

[TestClass]
public sealed class Landmarks68Tests
{
    [TestMethod]
    public void ToFivePoints_PointIEqualsIAnd2I_EyeMeansNoseAndMouthCorners()
    {
        var points = Enumerable.Range(0, 68).SelectMany(i => new[] { (float)i, 2f * i }).ToArray();
        CollectionAssert.AreEqual(
            new[] { 37.5f, 75f, 43.5f, 87f, 30f, 60f, 48f, 96f, 54f, 108f },
            Landmarks68.ToFivePoints(points));
    }

    [TestMethod]
    public void ToFivePoints_WrongCount_Throws()
        => Assert.ThrowsExactly<ArgumentException>(() => Landmarks68.ToFivePoints(new float[10]));
}

namespace Microsoft.ML.LH2Face.Data.Tests;

[TestClass]
public sealed class FaceTemplateTests
{
    [TestMethod]
    public void Points112_AreTheArcFaceTemplateOfProtocols()
    {
        CollectionAssert.AreEqual(
            new[] { 38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f, 71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f },
            FaceTemplate.Points112.ToArray());
        Assert.AreEqual(112, FaceTemplate.Size);
    }
}

using Microsoft.ML.LH2Face.Losses;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Losses;

[TestClass]
public sealed class KappaRankingTests
{
    [TestMethod]
    public void Loss_HandComputedHinge_OnLogNorms()
    {
        using var scope = NewDisposeScope();
        var source = tensor(new float[] { 10, 20, 5 }).view(3, 1);
        var copies = tensor(new float[] { 5, 19, 8 }).view(3, 1);
        // max(0, log(copy / source) + 0.2): log 0.5 + 0.2 < 0 -> 0; log 0.95 + 0.2 = 0.14871; log 1.6 + 0.2 = 0.67000.
        double expected = (0 + (Math.Log(0.95) + 0.2) + (Math.Log(1.6) + 0.2)) / 3;
        Assert.AreEqual(expected, KappaRanking.Loss(source, copies, 0.2).item<float>(), 1e-5);
    }

    [TestMethod]
    public void Loss_Gradient_RaisesTheSourceNormAndLowersTheCopys()
    {
        using var scope = NewDisposeScope();
        var source = tensor(new float[] { 10 }).view(1, 1).requires_grad_(true);
        var copy = tensor(new float[] { 10 }).view(1, 1).requires_grad_(true);
        KappaRanking.Loss(source, copy, 0.2).backward();
        Assert.AreEqual(-0.1, source.grad!.item<float>(), 1e-6, "d/d source of log(copy/source) = -1/source");
        Assert.AreEqual(0.1, copy.grad!.item<float>(), 1e-6);
    }

    [TestMethod]
    public void Degrade_SameSeedSameCopies_InRangeAndLessDetailed()
    {
        using var scope = NewDisposeScope();
        // A checkerboard face stand-in: all detail is high frequency, so blur and resampling remove energy.
        var board = (arange(32).view(1, -1) + arange(32).view(-1, 1)).remainder(2).to(ScalarType.Float32) * 200 + 20;
        var pixels = board.view(1, 1, 32, 32).expand(8, 3, 32, 32).contiguous();
        random.manual_seed(11);
        var a = KappaRanking.Degrade(pixels);
        random.manual_seed(11);
        var b = KappaRanking.Degrade(pixels);
        Assert.AreEqual(0f, (a - b).abs().max().item<float>(), "the global random stream decides the degradation, so a resumed step degrades alike");
        CollectionAssert.AreEqual(new long[] { 8, 3, 32, 32 }, a.shape);
        Assert.IsTrue(a.min().item<float>() >= 0 && a.max().item<float>() <= 255);
        Tensor Detail(Tensor t) => (t.narrow(3, 1, 31) - t.narrow(3, 0, 31)).abs().mean(new long[] { 1, 2, 3 });
        var before = Detail(pixels);
        var after = Detail(a);
        // Blur or resampling always comes first; noise adds some back, but never the checkerboard's 200-level steps.
        Assert.IsTrue(after.lt(before * 0.8).all().item<bool>(), $"detail before {before[0].item<float>()}, after {string.Join(", ", after.data<float>().ToArray())}");
    }

    [TestMethod]
    public void Copies_ShareOfTheBatch_AtLeastTwo_ZeroWhenOff()
    {
        var o = new LH2FaceTrainer.Options { KappaRankingWeight = 1 };
        Assert.AreEqual(16, KappaRanking.Copies(o, 64));
        Assert.AreEqual(2, KappaRanking.Copies(o, 4));
        o.KappaRankingWeight = 0;
        Assert.AreEqual(0, KappaRanking.Copies(o, 64));
    }
}

using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Training;
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
        Assert.AreEqual(16, o.Settings().Loss.KappaRanking.Copies(64));
        Assert.AreEqual(2, o.Settings().Loss.KappaRanking.Copies(4));
        o.KappaRankingWeight = 0;
        Assert.AreEqual(0, o.Settings().Loss.KappaRanking.Copies(64));
        o.DegradedConsistencyWeight = 0.5f;
        Assert.AreEqual(16, o.Settings().Loss.KappaRanking.Copies(64), "the consistency term needs the copies too");
    }

    [TestMethod]
    public void Consistency_HandComputed_AndGradientAgainstFloat64()
    {
        using var scope = NewDisposeScope();
        var source = tensor(new float[] { 1, 0, 3, 4 }).view(2, 2).requires_grad_(true);
        var copy = tensor(new float[] { 1, 1, -4, 3 }).view(2, 2).requires_grad_(true);
        // cos((1,1),(1,0)) = 1/sqrt 2; cos((-4,3),(3,4)) = 0: mean of 1 - cos.
        double expected = ((1 - 1 / Math.Sqrt(2)) + 1) / 2;
        var loss = KappaRanking.Consistency(source, copy);
        Assert.AreEqual(expected, loss.item<float>(), 1e-6);
        loss.backward();
        Assert.IsTrue(source.grad is null || source.grad.abs().max().item<float>() == 0, "the source is held constant");
        // d/dc (1 - c.s / (|c||s|)) / n = -(s / (|c||s|) - (c.s) c / (|c|^3 |s|)) / n, in float64.
        double[][] s = { new[] { 1.0, 0 }, new[] { 3.0, 4 } }, c = { new[] { 1.0, 1 }, new[] { -4.0, 3 } };
        var grad = copy.grad!.data<float>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            double dot = c[i][0] * s[i][0] + c[i][1] * s[i][1], nc = Math.Sqrt(c[i][0] * c[i][0] + c[i][1] * c[i][1]), ns = Math.Sqrt(s[i][0] * s[i][0] + s[i][1] * s[i][1]);
            for (int j = 0; j < 2; j++)
                Assert.AreEqual(-(s[i][j] / (nc * ns) - dot * c[i][j] / (nc * nc * nc * ns)) / 2, grad[2 * i + j], 1e-6, $"d loss / d copy[{i},{j}]");
        }
    }

    [TestMethod]
    public void FeaturesDetachingCopies_SameValues_NoTrunkGradientFromTheCopies()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        var options = new LH2FaceTrainer.Options { Backbone = LH2FaceBackbone.Compact, InputSize = 32, EmbeddingSize = 16, DropoutRate = 0 };
        using var network = new FaceNetwork(options.Settings().Network, classCount: 4);
        network.train();
        var pixels = rand(new long[] { 6, 3, 32, 32 }) * 255;
        var plain = network.Features(pixels).detach();
        var mixed = network.FeaturesDetachingCopies(pixels, copies: 2);
        Assert.IsTrue((plain - mixed).abs().max().item<float>() < 1e-5f, "the values of Features: one set of batch statistics over all images");
        // A loss on the copies alone reaches the embedding layer, not the convolutional trunk.
        mixed.narrow(0, 4, 2).norm(1).sum().backward();
        var trunkGrads = network.Backbone.named_parameters().Where(p => !p.name.StartsWith("fc") && !p.name.StartsWith("features") && p.parameter.requires_grad).ToList();
        Assert.IsTrue(trunkGrads.Count > 0);
        foreach (var (name, parameter) in trunkGrads)
            Assert.IsTrue(parameter.grad is null || parameter.grad.abs().max().item<float>() == 0, $"{name} got a gradient from the detached copies");
        var fc = network.Backbone.named_parameters().Single(p => p.name == "fc.weight").parameter;
        Assert.IsTrue(fc.grad!.abs().max().item<float>() > 0, "the embedding layer learns from the copies");
    }
}

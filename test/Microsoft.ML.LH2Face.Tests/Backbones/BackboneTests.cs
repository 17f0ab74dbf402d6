using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Backbones;

[TestClass]
public sealed class BackboneTests
{
    [TestMethod]
    [DataRow(LH2FaceBackbone.IResNet18, 8, 512)]
    [DataRow(LH2FaceBackbone.IResNet34, 16, 512)]
    [DataRow(LH2FaceBackbone.IResNet50, 24, 512)]
    [DataRow(LH2FaceBackbone.IResNet100, 49, 512)]
    [DataRow(LH2FaceBackbone.Compact, 4, 128)]
    public void Create_InsightfaceLayout_HasBlocksAndFcOf7x7Map(LH2FaceBackbone kind, int blocks, int width)
    {
        using var net = BackboneFactory.Create(kind, 112, 512, 0);
        Assert.AreEqual(blocks, net.modules().OfType<IBasicBlock>().Count());
        var fc = net.modules().OfType<Linear>().Single();
        Assert.AreEqual(width * 7 * 7, fc.in_features, "112 px input gives a 7x7 final map");
        var features = net.modules().OfType<BatchNorm1d>().Single();
        Assert.IsFalse(features.weight!.requires_grad, "the embedding BN scale is fixed at 1, as arcface_torch");
    }

    [TestMethod]
    [DataRow(112, 7)]
    [DataRow(56, 4)]
    [DataRow(32, 2)]
    public void FeatureMapSide_FourStride2Convs(int input, int side) => Assert.AreEqual(side, IResNet.FeatureMapSide(input));

    [TestMethod]
    public void Create_EmbeddingNorm_TrainableScaleTrainsTheBnAndNoneHasNoBn()
    {
        using var trainable = BackboneFactory.Create(LH2FaceBackbone.Compact, 32, 16, 0, LH2FaceEmbeddingNorm.TrainableScale);
        Assert.IsTrue(trainable.modules().OfType<BatchNorm1d>().Single().weight!.requires_grad);
        using var none = BackboneFactory.Create(LH2FaceBackbone.Compact, 32, 16, 0, LH2FaceEmbeddingNorm.None);
        Assert.IsFalse(none.modules().OfType<BatchNorm1d>().Any());
        Assert.IsFalse(none.named_parameters().Any(p => p.name.StartsWith("features", StringComparison.Ordinal)));
        // Without the batch norm z is the FC output itself: its norm is whatever the FC gives.
        using var scope = NewDisposeScope();
        none.eval();
        var fc = none.modules().OfType<Linear>().Single();
        using (no_grad())
            fc.bias!.fill_(7);
        var z = none.forward(zeros(2, 3, 32, 32));
        Assert.IsTrue(z.shape[1] == 16 && z.norm(1).min().item<float>() > 7, "with no batch norm nothing pulls z back to unit variance");
    }

    [TestMethod]
    [DataRow(LH2FaceEmbeddingNorm.FrozenScale)]
    [DataRow(LH2FaceEmbeddingNorm.TrainableScale)]
    [DataRow(LH2FaceEmbeddingNorm.None)]
    public void ExportOnnx_CompactEveryEmbeddingNorm_MatchesTorchSharpEval(LH2FaceEmbeddingNorm embeddingNorm)
    {
        random.manual_seed(5);
        using var net = BackboneFactory.Create(LH2FaceBackbone.Compact, 32, 16, 0, embeddingNorm);
        using (no_grad())
            foreach (var bn in net.modules().OfType<BatchNorm1d>())
                bn.weight!.fill_(1.7f); // a scale the frozen BN would never have, to see that the export reads it
        AssertExportMatches(net, 32, 16);
    }

    private static void AssertExportMatches(nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> net, int side, int dim)
    {
        using var scope = NewDisposeScope();
        net.train();
        using (no_grad())
        {
            for (int i = 0; i < 3; i++)
                net.forward(randn(4, 3, side, side));
        }
        net.eval();
        var x = randn(2, 3, side, side);
        float[] expected;
        using (no_grad())
            expected = net.forward(x).data<float>().ToArray();
        var g = new OnnxGraphBuilder();
        g.AddInput("x", "N", 3, side, side);
        var y = ((IOnnxExportable)net).ExportOnnx(g, "x", "backbone");
        g.Identity(y, "z");
        g.AddOutput("z", "N", dim);
        using var session = new InferenceSession(g.ToBytes());
        var input = new DenseTensor<float>(x.data<float>().ToArray(), new[] { 2, 3, side, side });
        using var result = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", input) });
        var actual = result.Single().AsTensor<float>().ToArray();
        Assert.AreEqual(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v));
        double maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsTrue(maxDiff < 1e-4 * scale, $"max |ONNX - TorchSharp| = {maxDiff:E2} (values up to {scale:F2})");
    }

    [TestMethod]
    public void ExportOnnx_IResNet18At112_MatchesTorchSharpEval()
    {
        random.manual_seed(3);
        using var net = BackboneFactory.Create(LH2FaceBackbone.IResNet18, 112, 128, 0);
        using var scope = NewDisposeScope();
        // Populate batch-norm running statistics so the export of every BN is exercised.
        net.train();
        using (no_grad())
        {
            for (int i = 0; i < 3; i++)
                net.forward(randn(4, 3, 112, 112));
        }
        net.eval();
        var x = randn(2, 3, 112, 112);
        float[] expected;
        using (no_grad())
            expected = net.forward(x).data<float>().ToArray();

        var g = new OnnxGraphBuilder();
        g.AddInput("x", "N", 3, 112, 112);
        var y = ((IOnnxExportable)net).ExportOnnx(g, "x", "backbone");
        g.Identity(y, "z");
        g.AddOutput("z", "N", 128);
        using var session = new InferenceSession(g.ToBytes());
        var input = new DenseTensor<float>(x.data<float>().ToArray(), new[] { 2, 3, 112, 112 });
        using var result = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", input) });
        var actual = result.Single().AsTensor<float>().ToArray();
        Assert.AreEqual(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v));
        double maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsTrue(maxDiff < 1e-4 * scale, $"max |ONNX - TorchSharp| = {maxDiff:E2} (values up to {scale:F2})");
    }

    [TestMethod]
    public void Then_ReleasesEachIntermediateAsSoonAsTheNextLayerHasReadIt()
    {
        // Five layers chained through Then: the live tensor count must not grow with the chain, and the pass without
        // gradients must compute what the plain chain computes.
        using var scope = NewDisposeScope();
        var input = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        var plain = (((((input * 2) + 1) * 3) - 4) * 0.5f).data<float>().ToArray();
        var live = new List<long>();
        TorchSharp.torch.Tensor Layer(TorchSharp.torch.Tensor t, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> f)
        {
            live.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            return f(t);
        }
        using (no_grad())
        {
            var y = input * 2;
            var first = y;
            y = IBasicBlock.Then(y, t => Layer(t, u => u + 1));
            Assert.IsTrue(first.IsInvalid, "the intermediate is disposed once the next layer has read it");
            y = IBasicBlock.Then(y, t => Layer(t, u => u * 3));
            y = IBasicBlock.Then(y, t => Layer(t, u => u - 4));
            y = IBasicBlock.Then(y, t => Layer(t, u => u * 0.5f));
            CollectionAssert.AreEqual(plain, y.data<float>().ToArray());
            Assert.IsFalse(input.IsInvalid, "the chain's own input is the caller's");
        }
        Assert.AreEqual(4, live.Count);
        Assert.IsTrue(live.All(n => n == live[0]), $"live tensors when each layer ran: {string.Join(", ", live)}");
        // A layer that hands back its input (an identity) keeps it.
        var same = ones(2);
        Assert.AreSame(same, IBasicBlock.Then(same, t => t));
        Assert.IsFalse(same.IsInvalid);
    }
}

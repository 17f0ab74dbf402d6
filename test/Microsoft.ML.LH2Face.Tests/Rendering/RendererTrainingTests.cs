using Microsoft.ML.LH2Face.Data.Synthetic;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Rendering;

[TestClass]
public sealed class RendererTrainingTests
{
    private const int Side = 32;
    private const int Identities = 8;
    private const int Resolution = 16;

    private static LH2FaceTrainer.Options Options(float canonicalWeight = 0, float viewWeight = 0) => new()
    {
        Backbone = LH2FaceBackbone.Compact,
        InputSize = Side,
        EmbeddingSize = 32,
        Head = LH2FaceHead.ArcFace,
        UseRenderer = true,
        RendererResolution = Resolution,
        CanonicalRecognitionWeight = canonicalWeight,
        ViewConsistencyWeight = viewWeight,
    };

    /// <summary>SynthFace images (high quality, no occluders) of <see cref="Identities"/> people, samples [first, first + count), as planar 0..255 [N, 3, S, S].</summary>
    private static Tensor Images(int firstSample, int count)
    {
        var generator = new SynthFaceGenerator(new SynthFaceOptions { ImageSize = Side, Seed = 7, LowQualityRate = 0, OccluderRate = 0 });
        var data = new List<float>();
        for (int s = firstSample; s < firstSample + count; s++)
        {
            for (int id = 0; id < Identities; id++)
            {
                var rgb = generator.Generate(id, s).Rgb;
                for (int c = 0; c < 3; c++)
                    for (int p = 0; p < Side * Side; p++)
                        data.Add(rgb[3 * p + c]);
            }
        }
        return tensor(data.ToArray()).view(-1, 3, Side, Side);
    }

    private static float HeldOutError(FaceNetwork network, Tensor pixels)
    {
        network.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var z = network.Features(pixels);
        var (embedding, _) = FaceNetwork.Split(z);
        var render = network.Renderer!.Render(embedding, z, withFlip: false);
        return (render.Reconstruction - RendererLosses.Target(pixels, Resolution)).abs().mean().item<float>();
    }

    [TestMethod]
    public void SmallRun_LowersReconstructionErrorOnHeldOutImages()
    {
        using var train = Images(0, 6);
        using var heldOut = Images(6, 2);
        random.manual_seed(11);
        var options = Options();
        using var network = new FaceNetwork(options, Identities);
        using var optimizer = optim.AdamW(network.parameters().Where(p => p.requires_grad), 5e-3);
        float before = HeldOutError(network, heldOut);
        var order = new Random(3);
        for (int step = 0; step < 40; step++)
        {
            network.train();
            using var scope = NewDisposeScope();
            var index = tensor(Enumerable.Range(0, 16).Select(_ => (long)order.Next((int)train.shape[0])).ToArray());
            var terms = RendererTraining.Losses(network, train.index_select(0, index), network.Features(train.index_select(0, index)),
                (_, _) => throw new AssertFailedException("the canonical recognition term is off"), options);
            Assert.HasCount(1, terms);
            var (name, value, weight) = terms[0];
            Assert.AreEqual(RendererTraining.ReconstructionTerm, name);
            optimizer.zero_grad();
            (value * weight).backward();
            optimizer.step();
        }
        float after = HeldOutError(network, heldOut);
        // Measured: 0.1806 -> 0.1305 (deterministic on CPU for this seed); a fifth less is the bar.
        Assert.IsLessThan(0.8f * before, after, $"held-out L1 before {before:F4}, after {after:F4}");
    }

    [TestMethod]
    public void Losses_AllTermsOn_FeedTheCanonicalFaceThroughTheBackbone()
    {
        using var pixels = Images(0, 1);
        random.manual_seed(12);
        var options = Options(canonicalWeight: 0.5f, viewWeight: 0.1f);
        using var network = new FaceNetwork(options, Identities);
        using var scope = NewDisposeScope();
        var z = network.Features(pixels);
        long[]? canonicalShape = null;
        var terms = RendererTraining.Losses(network, pixels, z, (embedding, norm) =>
        {
            canonicalShape = embedding.shape;
            Assert.AreEqual(1.0, embedding.norm(1).mean().item<float>(), 1e-5, "the head gets unit embeddings");
            Assert.IsGreaterThan(0f, norm.min().item<float>());
            return embedding.sum() * 0 + 2.5f;
        }, options);
        CollectionAssert.AreEqual(new[] { RendererTraining.ReconstructionTerm, RendererTraining.CanonicalRecognitionTerm, RendererTraining.ViewConsistencyTerm },
            terms.Select(t => t.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 0.5f, 0.1f }, terms.Select(t => t.Weight).ToArray());
        CollectionAssert.AreEqual(new long[] { Identities, 32 }, canonicalShape);
        Assert.AreEqual(2.5f, terms[1].Value.item<float>(), 1e-6);
        float view = terms[2].Value.item<float>();
        Assert.IsTrue(view is > 0 and < 2, $"1 - cos lies in [0, 2], got {view}");
    }
}

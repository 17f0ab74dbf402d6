using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Settings;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// The trainable network: pixel normalisation, backbone, head and (with Options.UseRenderer) the
/// renderer. One module so that one save holds the weights and every head statistic (buffers such as
/// the running mean norm).
/// </summary>
internal sealed class FaceNetwork : Module
{
    /// <summary>insightface normalisation: (x - 127.5) / 127.5 maps 0..255 to -1..1.</summary>
    public const float PixelMean = 127.5f;

    /// <inheritdoc cref="PixelMean"/>
    public const float PixelScale = 127.5f;

    /// <summary>Smallest norm divided by when normalising an embedding.</summary>
    public const double NormEpsilon = 1e-12;

    private readonly Module<Tensor, Tensor> backbone;
    private readonly MarginHead head;
    private readonly FaceRenderer? renderer;

    public FaceNetwork(NetworkSettings settings, int classCount) : base(nameof(FaceNetwork))
    {
        // TorchSharp's layer constructors leave temporary tensor handles behind (parameter initialisation); the scope
        // releases them, and the weights and buffers the network keeps are taken out of it first.
        using var scope = NewDisposeScope();
        var b = settings.Backbone;
        backbone = BackboneFactory.Create(b.Kind, b.InputSize, b.EmbeddingSize, b.DropoutRate, b.EmbeddingNorm);
        head = HeadFactory.Create(settings.Head, classCount);
        // Without the renderer the field stays null and the saved weights are those of a renderer-free network.
        renderer = settings.Renderer is { } r ? new FaceRenderer(b.EmbeddingSize, r.Resolution, r.WarpIterations, r.FieldOfView, r.DepthPrior) : null;
        RegisterComponents();
        foreach (var parameter in parameters())
            parameter.DetachFromDisposeScope();
        foreach (var buffer in buffers())
            buffer.DetachFromDisposeScope();
    }

    public Module<Tensor, Tensor> Backbone => backbone;

    public MarginHead Head => head;

    /// <summary>The renderer, or null when Options.UseRenderer is off.</summary>
    public FaceRenderer? Renderer => renderer;

    /// <summary>Backbone features z [B, d] of raw 0..255 planar pixels [B, 3, S, S].</summary>
    public Tensor Features(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        // Scalars held by 'using' for the whole call: on a large tensor an implicit
        // float -> Scalar can be finalized while libtorch still reads it (a measured crash in a long run).
        using var mean = PixelMean.ToScalar();
        using var scale = PixelScale.ToScalar();
        return backbone.forward(pixels.sub(mean).div(scale)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Features"/> of a batch of clean images followed by <paramref name="copies"/> degraded ones, with the
    /// degraded copies' trunk features detached and the embedding batch norm's statistics held constant for them: their
    /// z depends on the embedding layer's weights only, so a loss on them trains that layer and not the convolutional
    /// trunk. One pass: the statistics are those of all images, as in Features.
    /// </summary>
    public Tensor FeaturesDetachingCopies(Tensor pixels, long copies)
    {
        using var scope = NewDisposeScope();
        using var mean = PixelMean.ToScalar();
        using var scale = PixelScale.ToScalar();
        var net = (IResNet)backbone;
        var trunk = net.Trunk(pixels.sub(mean).div(scale));
        long clean = trunk.shape[0] - copies;
        var mixed = cat(new[] { trunk.narrow(0, 0, clean), trunk.narrow(0, clean, copies).detach() }, 0);
        return net.EmbedIsolatingCopies(mixed, copies).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Features"/> in training mode (batch statistics, gradients) that leaves the backbone's
    /// running batch-norm averages as they were: for images, such as rendered faces, whose statistics
    /// should not enter the model that scores real ones.
    /// </summary>
    public Tensor FeaturesKeepingStatistics(Tensor pixels) => BatchNormStatistics.Held(backbone, () => Features(pixels));

    /// <summary>
    /// Runs <see cref="ConvolutionSelfCheck"/> on every convolution of the backbone and the renderer at the
    /// sizes training will use (<see cref="RecordConvolutionSizes"/>), rerouting any that compute wrong
    /// gradients on this machine.
    /// </summary>
    /// <param name="device">Device training runs on.</param>
    /// <param name="useCache">Reuse the results of shapes this process has checked already (false: measure every shape).</param>
    public IReadOnlyList<ConvolutionCheck> CheckConvolutions(Device device, bool useCache = true)
    {
        var layers = named_modules().Where(m => m.module is RoutedConv2d).Select(m => (m.name, (RoutedConv2d)m.module)).ToList();
        var checks = ConvolutionSelfCheck.Run(layers, device, useCache: useCache).ToList();
        if (TrainingPrecision == LH2FacePrecision.BFloat16)
        {
            // The backbone's training passes also run its convolutions in bfloat16 (other oneDNN kernels): checked as well, from the routes the float32 check chose.
            var backboneLayers = backbone.named_modules().Where(m => m.module is RoutedConv2d).Select(m => ("backbone." + m.name, (RoutedConv2d)m.module));
            var bf16 = ConvolutionSelfCheck.Run(backboneLayers, device, useCache: useCache, compute: ScalarType.BFloat16);
            checks.AddRange(bf16);
            if (bf16.Any(c => c.Rerouted))
                checks = ConvolutionSelfCheck.Run(layers, device, useCache: useCache).Concat(bf16).ToList(); // the new routes in float32 too
        }
        return checks;
    }

    /// <summary>Options.RecomputeActivations: see <see cref="IResNet.RecomputeActivations"/>; call <see cref="BackwardRecomputed"/> after the loss's backward.</summary>
    public bool RecomputeActivations
    {
        get => ((IResNet)backbone).RecomputeActivations;
        set => ((IResNet)backbone).RecomputeActivations = value;
    }

    /// <summary>The stem and the first block's entry recomputed in the backward pass (the trainer's default): see <see cref="IResNet.RecomputeStem"/>.</summary>
    public bool RecomputeStem
    {
        get => ((IResNet)backbone).RecomputeStem;
        set => ((IResNet)backbone).RecomputeStem = value;
    }

    /// <summary>The trunk's share of the backward pass under <see cref="RecomputeActivations"/> or <see cref="RecomputeStem"/> (nothing to do without them).</summary>
    public void BackwardRecomputed() => ((IResNet)backbone).BackwardRecomputed();

    /// <summary>Drops trunk passes waiting for <see cref="BackwardRecomputed"/> (a step that stops before its backward).</summary>
    public void DiscardRecomputation() => ((IResNet)backbone).DiscardRecomputation();

    /// <summary>Number format of the backbone's training passes (Options.Precision; see <see cref="IResNet.TrainingPrecision"/>).</summary>
    public LH2FacePrecision TrainingPrecision
    {
        get => ((IResNet)backbone).TrainingPrecision;
        set => ((IResNet)backbone).TrainingPrecision = value;
    }

    /// <summary>
    /// One eval-mode pass at batch 2 through the backbone and the renderer, so every convolution records the
    /// size of its input; eval mode leaves the batch-norm averages and the random stream as they were.
    /// Batch 2, not 1: libtorch sends a small batch-1 convolution to its native kernel, which prints an
    /// NNPACK warning to stderr on CPUs without NNPACK support; training batches take oneDNN's path.
    /// </summary>
    public void RecordConvolutionSizes(int inputSize, Device device)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var z = Features(zeros(2, 3, inputSize, inputSize, device: device));
            if (renderer is not null)
                renderer.Render(Split(z).Embedding, z, withFlip: false);
        }
        finally
        {
            if (wasTraining)
                train();
        }
    }

    /// <summary>Splits z into the unit embedding x = z / ||z|| and the norm kappa [B, 1].</summary>
    public static (Tensor Embedding, Tensor Norm) Split(Tensor z)
    {
        var norm = z.norm(1, keepdim: true);
        return (z / norm.clamp_min(NormEpsilon), norm);
    }
}

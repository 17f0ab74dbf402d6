using Microsoft.ML.LH2Face.Settings;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>
/// The optimisers of one run: the recognition optimiser over backbone and head (one parameter group, or two when the
/// proxies W get their own rate through ProxyLearningRateMultiplier) and, with the renderer, the renderer's own Adam.
/// Owns both; the learning-rate schedule reaches every group through <see cref="SetLearningRate"/>.
/// </summary>
internal sealed class OptimizerSet : IDisposable
{
    private readonly float clipNorm;
    private readonly double peakRate, rendererPeakRate;

    /// <summary>Learning-rate factor of each parameter group of <see cref="Main"/>.</summary>
    private readonly double[] groupFactors;

    public OptimizerSet(ScheduleSettings schedule, ProxySettings proxies, RendererTrainingSettings? renderer, FaceNetwork network)
    {
        clipNorm = schedule.GradientClipNorm;
        peakRate = schedule.LearningRate;
        rendererPeakRate = renderer?.LearningRate ?? 0;
        (Main, groupFactors) = CreateMain(schedule, proxies.LearningRateMultiplier, network);
        // Unsup3d trains its renderer with Adam: the L1 and image terms give gradients of a very different scale from the
        // recognition loss, which SGD at the recognition rate does not move. No weight decay, as in Unsup3d.
        var rendererParameters = RendererParameters(network);
        Renderer = rendererParameters.Count == 0 || renderer is null ? null : optim.Adam(rendererParameters, renderer.LearningRate);
    }

    /// <summary>The recognition optimiser (backbone and head).</summary>
    public OptimizerHelper Main { get; }

    /// <summary>The renderer's Adam; null without the renderer.</summary>
    public OptimizerHelper? Renderer { get; }

    /// <summary>The trainable parameters of backbone and head: everything but the renderer's own.</summary>
    public static List<Parameter> MainParameters(FaceNetwork network)
    {
        var renderer = RendererParameters(network).Select(p => p.Handle).ToHashSet();
        return network.parameters().Where(p => p.requires_grad && !renderer.Contains(p.Handle)).ToList();
    }

    /// <summary>The renderer's parameters (decoders, light and view heads); empty without the renderer.</summary>
    public static List<Parameter> RendererParameters(FaceNetwork network)
        => network.Renderer?.parameters().Where(p => p.requires_grad).ToList() ?? new List<Parameter>();

    /// <summary>Sets the schedule's rate: each recognition group at its factor, the renderer at the same fraction of its own peak rate.</summary>
    public void SetLearningRate(double lr)
    {
        int i = 0;
        foreach (var group in Main.ParamGroups)
            group.LearningRate = lr * groupFactors[Math.Min(i++, groupFactors.Length - 1)];
        if (Renderer is not null)
        {
            double factor = lr / peakRate;
            foreach (var group in Renderer.ParamGroups)
                group.LearningRate = rendererPeakRate * factor;
        }
    }

    public void ZeroGrad()
    {
        Main.zero_grad();
        Renderer?.zero_grad();
    }

    /// <summary>Clips the gradients (per optimiser: the renderer's must not shrink the recognition step, nor the reverse) and steps.</summary>
    public void ClipAndStep()
    {
        if (clipNorm > 0)
        {
            nn.utils.clip_grad_norm_(Main.parameters(), clipNorm);
            if (Renderer is not null)
                nn.utils.clip_grad_norm_(Renderer.parameters(), clipNorm);
        }
        Main.step();
        Renderer?.step();
    }

    /// <summary>Writes the optimiser states into a checkpoint directory.</summary>
    public void Save(string dir)
    {
        Main.save_state_dict(Path.Combine(dir, CheckpointStore.OptimizerFile));
        Renderer?.save_state_dict(Path.Combine(dir, CheckpointStore.RendererOptimizerFile));
    }

    /// <summary>Reads the optimiser states of a checkpoint directory; a missing or damaged file is named.</summary>
    public void Load(string dir)
    {
        CheckpointStore.ReadFile(Path.Combine(dir, CheckpointStore.OptimizerFile), file => Main.load_state_dict(file));
        if (Renderer is not null)
            CheckpointStore.ReadFile(Path.Combine(dir, CheckpointStore.RendererOptimizerFile), file => Renderer.load_state_dict(file));
    }

    public void Dispose()
    {
        Main.Dispose();
        Renderer?.Dispose();
    }

    private static (OptimizerHelper Optimizer, double[] GroupFactors) CreateMain(ScheduleSettings options, float proxyLearningRateMultiplier, FaceNetwork network)
    {
        var proxies = network.Head.Proxies;
        var trainable = MainParameters(network);
        bool separate = proxyLearningRateMultiplier != 1f;
        var rest = separate ? trainable.Where(p => !ReferenceEquals(p, proxies) && p.Handle != proxies.Handle).ToList() : trainable;
        double lr = options.LearningRate, proxyLr = options.LearningRate * (double)proxyLearningRateMultiplier;
        var factors = separate ? new[] { 1.0, (double)proxyLearningRateMultiplier } : new[] { 1.0 };
        OptimizerHelper optimizer = options.Optimizer switch
        {
            LH2FaceOptimizer.Sgd when separate => optim.SGD(new[]
            {
                new SGD.ParamGroup(rest, lr: lr, momentum: options.Momentum, weight_decay: options.WeightDecay),
                new SGD.ParamGroup(new[] { proxies }, lr: proxyLr, momentum: options.Momentum, weight_decay: options.WeightDecay),
            }, lr, momentum: options.Momentum, weight_decay: options.WeightDecay),
            LH2FaceOptimizer.AdamW when separate => optim.AdamW(new[]
            {
                new AdamW.ParamGroup(rest, lr: lr, weight_decay: options.WeightDecay),
                new AdamW.ParamGroup(new[] { proxies }, lr: proxyLr, weight_decay: options.WeightDecay),
            }, lr, weight_decay: options.WeightDecay),
            LH2FaceOptimizer.Sgd => optim.SGD(trainable, options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
            LH2FaceOptimizer.AdamW => optim.AdamW(trainable, options.LearningRate, weight_decay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer,
                $"Unknown optimiser '{options.Optimizer}': use one of {string.Join(", ", Enum.GetNames<LH2FaceOptimizer>())}."),
        };
        return (optimizer, factors);
    }
}

using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Backbones;

/// <summary>
/// IResNet as in insightface arcface_torch (iresnet.py): Conv3x3-BN-PReLU stem, four stages of
/// <see cref="IBasicBlock"/> each halving the resolution, then BN - Dropout - FC - BN1d with the last
/// BN's scale fixed at 1 (or trainable, or no BN: <see cref="LH2FaceEmbeddingNorm"/>). Stage widths and depths are parameters so the compact CPU net shares the code.
/// </summary>
internal sealed class IResNet : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly RoutedConv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly PReLU prelu;
    private readonly ModuleList<IBasicBlock> blocks;
    private readonly BatchNorm2d bn2;
    private readonly Dropout dropout;
    private readonly Linear fc;
    private readonly BatchNorm1d? features;

    public IResNet(int[] depths, int[] widths, int inputSize, int embeddingSize, double dropoutRate, LH2FaceEmbeddingNorm embeddingNorm = LH2FaceEmbeddingNorm.FrozenScale) : base(nameof(IResNet))
    {
        if (depths.Length != 4 || widths.Length != 4)
            throw new ArgumentException("IResNet needs four stage depths and four stage widths.");
        conv1 = new RoutedConv2d("conv1", 3, widths[0], 3, stride: 1, padding: 1, bias: false);
        bn1 = BatchNorm2d(widths[0], eps: IBasicBlock.BatchNormEps);
        prelu = PReLU(widths[0], init: 0.25);
        blocks = new ModuleList<IBasicBlock>();
        long inPlanes = widths[0];
        for (int stage = 0; stage < 4; stage++)
        {
            for (int i = 0; i < depths[stage]; i++)
            {
                blocks.Add(new IBasicBlock($"layer{stage + 1}.{i}", inPlanes, widths[stage], i == 0 ? 2 : 1));
                inPlanes = widths[stage];
            }
        }
        bn2 = BatchNorm2d(inPlanes, eps: IBasicBlock.BatchNormEps);
        dropout = Dropout(dropoutRate);
        int side = FeatureMapSide(inputSize);
        fc = Linear(inPlanes * side * side, embeddingSize);
        features = embeddingNorm == LH2FaceEmbeddingNorm.None ? null : BatchNorm1d(embeddingSize, eps: IBasicBlock.BatchNormEps);
        RegisterComponents();
        Initialise(embeddingNorm);
    }

    /// <summary>Side of the last feature map: four 3x3 stride-2 convolutions with padding 1.</summary>
    public static int FeatureMapSide(int inputSize)
    {
        int side = inputSize;
        for (int i = 0; i < 4; i++)
            side = (side - 1) / 2 + 1;
        return side;
    }

    private void Initialise(LH2FaceEmbeddingNorm embeddingNorm)
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case RoutedConv2d conv:
                    init.kaiming_normal_(conv.Weight, 0, init.FanInOut.FanOut, init.NonlinearityType.ReLU);
                    break;
                case BatchNorm2d bn:
                    bn.weight!.fill_(1);
                    bn.bias!.zero_();
                    break;
            }
        }
        // arcface_torch fixes the scale of the embedding batch norm at 1 and does not train it.
        if (features is not null)
        {
            features.weight!.fill_(1);
            features.weight.requires_grad = embeddingNorm == LH2FaceEmbeddingNorm.TrainableScale;
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Embed(Trunk(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Number format of the trunk in training mode (Options.Precision): with BFloat16 a float32 input is cast once, each
    /// convolution and PReLU casts its float32 weights per pass (so the gradients reach them in float32), batch norm
    /// computes bfloat16 activations against its float32 parameters and statistics, and the trunk's output is cast back
    /// before the embedding layer. Eval mode, and any input that is not float32, compute as the input comes.
    /// </summary>
    public LH2FacePrecision TrainingPrecision { get; set; } = LH2FacePrecision.Float32;

    /// <summary>
    /// Options.RecomputeActivations: in a training pass whose input needs no gradient, <see cref="Trunk"/> keeps only the
    /// input of each segment (the stem, each residual block, the last batch norm) and frees the rest of the activations;
    /// <see cref="BackwardRecomputed"/>, called after the loss's backward, runs each segment again with gradients, last
    /// first, sends the trunk output's gradient through it and frees the segment's kept input. The same kernels on the same
    /// inputs: the gradients are those of the ordinary pass, for one more forward pass of the trunk. Without gradients the
    /// layers free each intermediate as soon as the next has read it (<see cref="IBasicBlock.Then"/>), so the forward pass
    /// holds the kept inputs and two full-size maps.
    /// </summary>
    public bool RecomputeActivations { get; set; }

    /// <summary>
    /// The trainer's default: the stem and the first residual block's entry (its first batch norm and its shortcut,
    /// <see cref="IBasicBlock.Entry"/>) run without gradients and keep only the input pixels; the entry's two outputs become
    /// leaves that the rest of the first block and the other blocks run from as usual, and <see cref="BackwardRecomputed"/>
    /// runs the prefix again and sends the two leaves' gradients through it. The stem's convolution output, its batch norm's
    /// output and its PReLU's output (the first block's input) are then not kept: three full-resolution maps (0.7 GiB for
    /// IResNet-18 at 112 px and 80 images) for the cheapest layers to recompute (a convolution of the three colour planes,
    /// two batch norms, a PReLU and the shortcut's 1x1 convolution at the halved resolution). The same gradients, bit for
    /// bit (tests). Has no effect when <see cref="RecomputeActivations"/> recomputes every segment.
    /// </summary>
    public bool RecomputeStem { get; set; }

    /// <summary>Trunk passes of this step waiting for <see cref="BackwardRecomputed"/>.</summary>
    private readonly List<Recomputation> pending = new();

    /// <summary>Number of segments the trunk is recomputed in: the stem, each block, the last batch norm.</summary>
    private int SegmentCount => blocks.Count + 2;

    /// <summary>The convolutional trunk: the flattened last feature map [B, C*H*W] that <see cref="Embed"/> maps to z.</summary>
    public Tensor Trunk(Tensor x)
    {
        using var scope = NewDisposeScope();
        var inputType = x.dtype;
        if (!(RecomputeActivations || RecomputeStem) || !(training && is_grad_enabled() && !x.requires_grad))
        {
            var y = x;
            for (int i = 0; i < SegmentCount; i++)
                y = Segment(i, y, inputType);
            return y.MoveToOuterDisposeScope();
        }
        if (!RecomputeActivations)
            return TrunkRecomputingStem(x, inputType).MoveToOuterDisposeScope();
        var inputs = new Tensor[SegmentCount];
        var output = x;
        using (no_grad())
        {
            for (int i = 0; i < SegmentCount; i++)
            {
                inputs[i] = output.detach().DetachFromDisposeScope();
                output = Segment(i, output, inputType);
            }
        }
        var leaf = output.requires_grad_().DetachFromDisposeScope();
        pending.Add(new Recomputation(new[] { leaf }, inputs, inputType, StemOnly: false));
        // A view, so the caller may dispose what it gets while the leaf waits for its gradient.
        return leaf.view(leaf.shape).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Trunk"/> under <see cref="RecomputeStem"/>: the stem and the first block's entry without gradients, the rest from their two leaves.</summary>
    private Tensor TrunkRecomputingStem(Tensor x, ScalarType inputType)
    {
        using var scope = NewDisposeScope();
        var input = x.detach().DetachFromDisposeScope();
        Tensor normalised, shortcut;
        using (no_grad())
            (normalised, shortcut) = Prefix(x, inputType);
        var leaves = new[] { normalised.requires_grad_().DetachFromDisposeScope(), shortcut.requires_grad_().DetachFromDisposeScope() };
        pending.Add(new Recomputation(leaves, new[] { input }, inputType, StemOnly: true));
        var rest = blocks[0].FromEntry(leaves[0], leaves[1], releaseNormalised: false);
        for (int i = 2; i < SegmentCount; i++)
            rest = Segment(i, rest, inputType);
        return rest.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The backward pass of every <see cref="Trunk"/> call since the last one, for <see cref="RecomputeActivations"/> and
    /// <see cref="RecomputeStem"/>: call it right after the loss's backward. Each recomputed part runs again from its kept
    /// input with gradients (batch-norm momentum 0, so the running averages move once per step as without recomputation)
    /// and takes the gradients of its outputs.
    /// </summary>
    public void BackwardRecomputed()
    {
        try
        {
            for (int r = pending.Count - 1; r >= 0; r--)
            {
                var pass = pending[r];
                var reached = pass.Outputs.Select(o => o.grad).ToArray();
                if (reached.All(g => g is null))
                    continue; // no loss reached this pass
                var outputGrads = reached.Select((g, k) => g ?? zeros_like(pass.Outputs[k])).ToArray();
                try
                {
                    // One hold of the batch-norm statistics for all of this pass's segments.
                    BatchNormStatistics.Held(this, () =>
                    {
                        if (pass.StemOnly)
                            BackwardStem(pass, outputGrads);
                        else
                            BackwardSegments(pass, outputGrads[0]);
                        return 0;
                    });
                }
                finally
                {
                    foreach (var g in outputGrads)
                        g.Dispose();
                }
            }
        }
        finally
        {
            DiscardRecomputation();
        }
    }

    /// <summary>Every segment again from its kept input, last first, each taking its output's gradient (Options.RecomputeActivations).</summary>
    private void BackwardSegments(Recomputation pass, Tensor outputGrad)
    {
        var grad = outputGrad.alias();
        for (int i = pass.Inputs.Length - 1; i >= 0; i--)
        {
            using var scope = NewDisposeScope();
            using var enable = enable_grad();
            var input = pass.Inputs[i].detach().requires_grad_(i > 0);
            autograd.backward(new[] { Segment(i, input, pass.InputType) }, new[] { grad });
            grad.Dispose();
            if (i > 0)
                grad = input.grad!.MoveToOuterDisposeScope(); // the next segment's output gradient
            input.Dispose();
            pass.Inputs[i].Dispose(); // kept for this segment only
        }
    }

    /// <summary>The stem and the first block's entry again from the kept pixels, taking the two leaves' gradients (<see cref="RecomputeStem"/>).</summary>
    private void BackwardStem(Recomputation pass, Tensor[] outputGrads)
    {
        using var scope = NewDisposeScope();
        using var enable = enable_grad();
        var (normalised, shortcut) = Prefix(pass.Inputs[0].detach(), pass.InputType);
        autograd.backward(new[] { normalised, shortcut }, outputGrads);
    }

    /// <summary>
    /// The part <see cref="RecomputeStem"/> recomputes, run once without gradients in <see cref="Trunk"/> and once with them
    /// in <see cref="BackwardRecomputed"/>: the stem, then the first block's <see cref="IBasicBlock.Entry"/>. The stem's
    /// output is released once the entry has read it (autograd keeps what the backward needs).
    /// </summary>
    private (Tensor Normalised, Tensor Shortcut) Prefix(Tensor x, ScalarType inputType)
    {
        var stem = Segment(0, x, inputType);
        var entry = blocks[0].Entry(stem);
        stem.Dispose();
        return entry;
    }

    /// <summary>Releases the kept inputs of trunk passes that will not be recomputed (a step stopped before its backward).</summary>
    public void DiscardRecomputation()
    {
        foreach (var pass in pending)
        {
            foreach (var output in pass.Outputs)
                output.Dispose();
            foreach (var input in pass.Inputs)
                input.Dispose();
        }
        pending.Clear();
    }

    /// <summary>
    /// Segment <paramref name="index"/> of the trunk: 0 the stem (with the bfloat16 cast of a float32 input in a bfloat16
    /// training pass), 1..N the residual blocks, N+1 the last batch norm, flattened and cast back to the input's type.
    /// </summary>
    private Tensor Segment(int index, Tensor x, ScalarType inputType)
    {
        using var scope = NewDisposeScope();
        Tensor y;
        if (index == 0)
        {
            if (training && TrainingPrecision == LH2FacePrecision.BFloat16 && inputType == ScalarType.Float32)
                x = x.to(ScalarType.BFloat16);
            y = IBasicBlock.Then(IBasicBlock.Then(conv1.forward(x), bn1.forward), t => IBasicBlock.PRelu(prelu, t));
        }
        else if (index <= blocks.Count)
        {
            y = blocks[index - 1].forward(x);
        }
        else
        {
            var trunk = bn2.forward(x).flatten(1);
            y = trunk.dtype == inputType ? trunk : trunk.to(inputType);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>A trunk pass waiting for its recomputation: its leaves (the trunk output, or the first block's entry under <see cref="RecomputeStem"/>) and kept inputs.</summary>
    private sealed record Recomputation(Tensor[] Outputs, Tensor[] Inputs, ScalarType InputType, bool StemOnly);

    /// <summary>Also releases the kept inputs of a pass that never reached its backward (a step that threw).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            DiscardRecomputation();
        base.Dispose(disposing);
    }

    /// <summary>
    /// <see cref="Embed"/> of trunk features whose last <paramref name="copies"/> rows are degraded copies, such that the
    /// copies' z has no gradient path to the other rows: in training mode the embedding batch norm normalises the copies
    /// with the batch's statistics held constant (the values are those of Embed; the running averages update once, as in
    /// Embed). With the copies' trunk features detached, a loss on the copies' z then trains the embedding layer only.
    /// </summary>
    public Tensor EmbedIsolatingCopies(Tensor trunk, long copies)
    {
        using var scope = NewDisposeScope();
        var y = fc.forward(dropout.forward(trunk));
        if (features is null)
            return y.MoveToOuterDisposeScope();
        var all = features.forward(y);
        if (!training)
            return all.MoveToOuterDisposeScope();
        long clean = y.shape[0] - copies;
        var held = y.detach();
        var mean = held.mean(new long[] { 0 });
        var variance = held.var(0, unbiased: false);
        var isolated = (y.narrow(0, clean, copies) - mean) / (variance + IBasicBlock.BatchNormEps).sqrt() * features.weight! + features.bias!;
        return cat(new[] { all.narrow(0, 0, clean), isolated }, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The embedding layer: dropout, the fully connected layer and the embedding batch norm, trunk features -> z [B, d].</summary>
    public Tensor Embed(Tensor trunk)
    {
        using var scope = NewDisposeScope();
        var y = fc.forward(dropout.forward(trunk));
        if (features is not null)
            y = features.forward(y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ONNX initializer name of a parameter or buffer path of this module: the residual blocks are "blocks.K." in
    /// TorchSharp's module tree and "layerS.I." (insightface's names) in the exported graph (see also
    /// <see cref="IBasicBlock.OnnxName"/>); other paths are the same.
    /// </summary>
    public string OnnxName(string path)
    {
        const string Blocks = "blocks.";
        if (!path.StartsWith(Blocks, StringComparison.Ordinal))
            return path;
        int dot = path.IndexOf('.', Blocks.Length);
        int index = int.Parse(path.AsSpan(Blocks.Length, dot - Blocks.Length), provider: System.Globalization.CultureInfo.InvariantCulture);
        return blocks[index].GetName() + "." + IBasicBlock.OnnxName(path[(dot + 1)..]);
    }

    public string ExportOnnx(OnnxGraphBuilder g, string input, string prefix)
    {
        var y = OnnxLayers.Conv(g, conv1, input, prefix + ".conv1");
        y = OnnxLayers.BatchNorm(g, bn1, y, prefix + ".bn1");
        y = OnnxLayers.PRelu(g, prelu, y, prefix + ".prelu");
        foreach (var block in blocks)
            y = block.ExportOnnx(g, y, prefix + "." + block.GetName());
        y = OnnxLayers.BatchNorm(g, bn2, y, prefix + ".bn2");
        y = g.Flatten(y, 1);
        y = OnnxLayers.Linear(g, fc, y, prefix + ".fc");
        return features is null ? y : OnnxLayers.BatchNorm(g, features, y, prefix + ".features");
    }
}

using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Backbones;

/// <summary>
/// The insightface IResNet residual block: BN - Conv3x3 - BN - PReLU - Conv3x3(stride) - BN, plus an
/// identity or a 1x1-conv + BN shortcut when the shape changes.
/// </summary>
internal sealed class IBasicBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>insightface uses eps = 1e-5 for every batch norm of IResNet.</summary>
    internal const double BatchNormEps = 1e-5;

    private readonly BatchNorm2d bn1;
    private readonly RoutedConv2d conv1;
    private readonly BatchNorm2d bn2;
    private readonly PReLU prelu;
    private readonly RoutedConv2d conv2;
    private readonly BatchNorm2d bn3;
    private readonly RoutedConv2d? downsample_conv;
    private readonly BatchNorm2d? downsample_bn;

    public IBasicBlock(string name, long inPlanes, long planes, long stride) : base(name)
    {
        bn1 = BatchNorm2d(inPlanes, eps: BatchNormEps);
        conv1 = new RoutedConv2d("conv1", inPlanes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes, eps: BatchNormEps);
        prelu = PReLU(planes, init: 0.25);
        conv2 = new RoutedConv2d("conv2", planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn3 = BatchNorm2d(planes, eps: BatchNormEps);
        if (stride != 1 || inPlanes != planes)
        {
            downsample_conv = new RoutedConv2d("downsample_conv", inPlanes, planes, 1, stride: stride, bias: false);
            downsample_bn = BatchNorm2d(planes, eps: BatchNormEps);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (normalised, shortcut) = Entry(x);
        return FromEntry(normalised, shortcut, releaseNormalised: true).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The block's entry: its first batch norm of the block input <paramref name="x"/>, and the shortcut (the 1x1
    /// convolution and batch norm where the shape changes, else an alias of <paramref name="x"/>). Neither needs
    /// <paramref name="x"/> afterwards, so a pass that recomputes the entry need not keep x (see <see cref="IResNet.RecomputeStem"/>).
    /// </summary>
    internal (Tensor Normalised, Tensor Shortcut) Entry(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normalised = bn1.forward(x);
        var shortcut = downsample_conv is null ? x.alias() : downsample_bn!.forward(downsample_conv.forward(x));
        return (normalised.MoveToOuterDisposeScope(), shortcut.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The rest of the block from <see cref="Entry"/>'s outputs: Conv3x3 - BN - PReLU - Conv3x3(stride) - BN of
    /// <paramref name="normalised"/>, plus <paramref name="shortcut"/>. <paramref name="releaseNormalised"/>: dispose
    /// <paramref name="normalised"/> once read (false when it is a leaf whose gradient is wanted).
    /// </summary>
    internal Tensor FromEntry(Tensor normalised, Tensor shortcut, bool releaseNormalised)
    {
        using var scope = NewDisposeScope();
        var y = conv1.forward(normalised);
        if (releaseNormalised)
            normalised.Dispose();
        y = Then(y, bn2.forward);
        y = Then(y, t => PRelu(prelu, t));
        y = Then(y, conv2.forward);
        var output = Then(y, bn3.forward);
        return output.add_(shortcut).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="layer"/> of an intermediate <paramref name="input"/>, which is released at once rather than with the
    /// scope: autograd keeps its own reference to what its backward needs, so with gradients nothing changes, and without
    /// them (the forward pass of Options.RecomputeActivations, inference) only two full-size maps are alive at a time
    /// instead of a whole block's (measured at 112 px, 80 images: five maps of 257 MB).
    /// </summary>
    internal static Tensor Then(Tensor input, Func<Tensor, Tensor> layer)
    {
        var output = layer(input);
        if (!ReferenceEquals(output, input))
            input.Dispose();
        return output;
    }

    /// <summary>PReLU of <paramref name="x"/> in x's number format: the float32 slopes are cast for a bfloat16 pass (libtorch's prelu takes one type).</summary>
    internal static Tensor PRelu(PReLU prelu, Tensor x)
        => x.dtype == prelu.weight!.dtype ? prelu.forward(x) : functional.prelu(x, prelu.weight.to(x.dtype));

    /// <summary>The ONNX initializer name of a parameter or buffer path of this block: the downsampling convolution and batch norm export as "downsample.0" and "downsample.1" (insightface's names).</summary>
    public static string OnnxName(string path)
        => path.StartsWith("downsample_conv.", StringComparison.Ordinal) ? "downsample.0." + path["downsample_conv.".Length..]
            : path.StartsWith("downsample_bn.", StringComparison.Ordinal) ? "downsample.1." + path["downsample_bn.".Length..]
            : path;

    public string ExportOnnx(OnnxGraphBuilder g, string input, string prefix)
    {
        var y = OnnxLayers.BatchNorm(g, bn1, input, prefix + ".bn1");
        y = OnnxLayers.Conv(g, conv1, y, prefix + ".conv1");
        y = OnnxLayers.BatchNorm(g, bn2, y, prefix + ".bn2");
        y = OnnxLayers.PRelu(g, prelu, y, prefix + ".prelu");
        y = OnnxLayers.Conv(g, conv2, y, prefix + ".conv2");
        y = OnnxLayers.BatchNorm(g, bn3, y, prefix + ".bn3");
        var identity = input;
        if (downsample_conv is not null)
        {
            identity = OnnxLayers.Conv(g, downsample_conv, input, prefix + ".downsample.0");
            identity = OnnxLayers.BatchNorm(g, downsample_bn!, identity, prefix + ".downsample.1");
        }
        return g.Add(y, identity);
    }
}

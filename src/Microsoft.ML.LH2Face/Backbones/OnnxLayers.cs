using Microsoft.ML.LH2Face.Numerics;
using Microsoft.ML.LH2Face.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Backbones;

/// <summary>ONNX export of the TorchSharp layers the backbones use (eval-mode semantics).</summary>
internal static class OnnxLayers
{
    public static string Conv(OnnxGraphBuilder g, RoutedConv2d conv, string x, string prefix)
    {
        var w = Weights(g, prefix + ".weight", conv.Weight);
        string? b = conv.Bias is null ? null : Weights(g, prefix + ".bias", conv.Bias);
        int k = (int)conv.KernelSize, s = (int)conv.Stride, p = (int)conv.Padding;
        return g.Conv(x, w, b, new[] { k, k }, new[] { s, s }, new[] { p, p, p, p }, 1);
    }

    public static string BatchNorm(OnnxGraphBuilder g, BatchNorm bn, string x, string prefix)
    {
        var c = bn.num_features;
        using var scope = NewDisposeScope();
        var scale = bn.weight is null ? ones(c) : bn.weight;
        var bias = bn.bias is null ? zeros(c) : bn.bias;
        return g.BatchNormalization(
            x,
            Weights(g, prefix + ".weight", scale),
            Weights(g, prefix + ".bias", bias),
            Weights(g, prefix + ".running_mean", bn.running_mean!),
            Weights(g, prefix + ".running_var", bn.running_var!),
            (float)bn.eps);
    }

    public static string PRelu(OnnxGraphBuilder g, PReLU prelu, string x, string prefix)
    {
        // ONNX PRelu broadcasts the slope from the right: shape it [C, 1, 1] for NCHW inputs.
        var slope = prelu.weight!;
        var data = ToArray(slope);
        var name = g.Initializer(prefix + ".weight", data, data.Length, 1, 1);
        return g.PRelu(x, name);
    }

    public static string Linear(OnnxGraphBuilder g, Linear linear, string x, string prefix)
    {
        var w = Weights(g, prefix + ".weight", linear.weight!);
        string? b = linear.bias is null ? null : Weights(g, prefix + ".bias", linear.bias);
        return g.Gemm(x, w, b, transB: true);
    }

    public static string Weights(OnnxGraphBuilder g, string name, Tensor t)
        => g.Initializer(name, ToArray(t), t.shape);

    public static float[] ToArray(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(float32).cpu().contiguous().data<float>().ToArray();
    }
}

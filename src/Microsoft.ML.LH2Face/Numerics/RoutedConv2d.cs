using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Numerics;

/// <summary>
/// A 2-D convolution (square kernel, one group, no dilation) whose training computation goes through a
/// chosen <see cref="ConvolutionRoute"/>. Its parameters are TorchSharp Conv2d's, drawn by Conv2d's own
/// initialisation and saved under the same names ("weight", "bias"), and its ONNX export
/// (<see cref="Backbones.OnnxLayers.Conv"/>) is the plain Conv node: the route changes how gradients are
/// computed, never the model.
/// </summary>
internal sealed class RoutedConv2d : Module<Tensor, Tensor>
{
    /// <summary>
    /// Output-channel multiple at which oneDNN's blocked CPU kernels compute right input gradients:
    /// 16 on AVX-512 (8 on AVX2, which 16 also satisfies).
    /// </summary>
    public const int ChannelBlock = 16;

    private readonly Parameter weight;
    private readonly Parameter? bias;

    public RoutedConv2d(string name, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) : base(name)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        // Conv2d draws the initial values, so the random stream (and with it every fixed-seed run) is Conv2d's.
        using (var conv = Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: bias))
        {
            weight = new Parameter(conv.weight!.detach().clone());
            this.bias = bias ? new Parameter(conv.bias!.detach().clone()) : null;
        }
        Route = PreferredRoute(outChannels);
        RegisterComponents();
    }

    public long InChannels { get; }

    public long OutChannels { get; }

    public long KernelSize { get; }

    public long Stride { get; }

    public long Padding { get; }

    /// <summary>The route of the forward pass; <see cref="ConvolutionSelfCheck"/> may change it.</summary>
    public ConvolutionRoute Route { get; set; }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    /// <summary>Spatial size [H, W] of the last input, recorded by forward for <see cref="ConvolutionSelfCheck"/>.</summary>
    public (long Height, long Width)? LastInputSize { get; private set; }

    /// <summary>Direct where the output channels fill oneDNN's blocks; PaddedChannels otherwise.</summary>
    public static ConvolutionRoute PreferredRoute(long outChannels)
        => outChannels % ChannelBlock == 0 ? ConvolutionRoute.Direct : ConvolutionRoute.PaddedChannels;

    public override Tensor forward(Tensor x)
    {
        LastInputSize = (x.shape[2], x.shape[3]);
        return Apply(Route, x, weight, bias, Stride, Padding);
    }

    /// <summary>The convolution of <paramref name="x"/> [B, Cin, H, W] by <paramref name="weight"/> [Cout, Cin, k, k] through <paramref name="route"/>.</summary>
    public static Tensor Apply(ConvolutionRoute route, Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        if (weight.dtype != x.dtype && x.dtype == ScalarType.BFloat16)
        {
            // A bfloat16 training pass (Options.Precision): the float32 weights are cast, and the cast's gradient reaches them in float32.
            weight = weight.to(x.dtype);
            bias = bias?.to(x.dtype);
        }
        long[] strides = [stride, stride], paddings = [padding, padding];
        switch (route)
        {
            case ConvolutionRoute.Direct:
                return functional.conv2d(x, weight, bias, strides, paddings);
            case ConvolutionRoute.PaddedChannels:
            {
                long outChannels = weight.shape[0];
                long padded = (outChannels + ChannelBlock - 1) / ChannelBlock * ChannelBlock;
                if (padded == outChannels)
                    return functional.conv2d(x, weight, bias, strides, paddings);
                using var scope = NewDisposeScope();
                var zeroFilters = zeros(padded - outChannels, weight.shape[1], weight.shape[2], weight.shape[3], dtype: weight.dtype, device: weight.device);
                var paddedWeight = cat([weight, zeroFilters], 0);
                var paddedBias = bias is null ? null : cat([bias, zeros(padded - outChannels, dtype: bias.dtype, device: bias.device)], 0);
                return functional.conv2d(x, paddedWeight, paddedBias, strides, paddings).narrow(1, 0, outChannels).MoveToOuterDisposeScope();
            }
            case ConvolutionRoute.Unfold:
            {
                using var scope = NewDisposeScope();
                long k = weight.shape[2];
                long outHeight = (x.shape[2] + 2 * padding - k) / stride + 1;
                long outWidth = (x.shape[3] + 2 * padding - k) / stride + 1;
                var columns = functional.unfold(x, k, padding: padding, stride: stride); // [B, Cin k k, L]
                var y = matmul(weight.view(weight.shape[0], -1), columns).view(x.shape[0], weight.shape[0], outHeight, outWidth);
                if (bias is not null)
                    y = y + bias.view(1, -1, 1, 1);
                return y.MoveToOuterDisposeScope();
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(route), route, "Unknown convolution route.");
        }
    }
}

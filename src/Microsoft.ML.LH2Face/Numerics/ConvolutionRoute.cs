namespace Microsoft.ML.LH2Face.Numerics;

/// <summary>
/// How a <see cref="RoutedConv2d"/> computes its convolution in training. All three give the same
/// function; they differ in which libtorch kernels run the backward pass.
/// </summary>
internal enum ConvolutionRoute
{
    /// <summary>libtorch's conv2d: on CPU, oneDNN's blocked kernels.</summary>
    Direct,

    /// <summary>
    /// The output channels padded with zero filters to a multiple of <see cref="RoutedConv2d.ChannelBlock"/>,
    /// convolved, then narrowed back: oneDNN 3.7 (libtorch 2.10) computes the input gradient wrongly on
    /// AVX2 / AVX-512 CPUs when the output channels are off its block size and the batch is above 1.
    /// </summary>
    PaddedChannels,

    /// <summary>Unfold (im2col) and a matrix product: no oneDNN convolution kernel at all; slower, the last resort.</summary>
    Unfold,
}

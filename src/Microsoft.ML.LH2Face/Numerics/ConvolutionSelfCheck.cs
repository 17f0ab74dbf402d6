using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Numerics;

/// <summary>One checked convolution shape: the layers that share it, the route it trains through, and the measured errors.</summary>
/// <param name="Shape">Channels, kernel, stride, padding and the checked input size, e.g. "16->1 k3 s1 p1 at 16x16".</param>
/// <param name="Layers">Names of the layers with this shape.</param>
/// <param name="Route">The route the layers train through after the check.</param>
/// <param name="Errors">Largest relative error of each route tried, in the order tried.</param>
/// <param name="Cached">True when the result is that of an earlier check of the shape in this process.</param>
/// <param name="Compute">The number format checked: Float32, or BFloat16 for the backbone's bfloat16 training passes (Options.Precision).</param>
internal sealed record ConvolutionCheck(string Shape, IReadOnlyList<string> Layers, ConvolutionRoute Route, IReadOnlyList<(ConvolutionRoute Route, double Error)> Errors, bool Cached = false,
    ScalarType Compute = ScalarType.Float32)
{
    /// <summary>True when the layers had to leave the route they were built with.</summary>
    public bool Rerouted => Errors.Count > 1;
}

/// <summary>
/// Checks, before training, that every convolution shape of a network computes its forward pass and its
/// input gradient right on this machine (weight gradients, which the kernel bug spared, are checked by the
/// float64 reference tests): the float32 route against the same convolution computed in float64 as a sum
/// over kernel taps (<see cref="TapSum"/>), on random data from a private generator (the training random stream is not touched). A layer whose route is
/// wrong moves to the next route (Direct, PaddedChannels, Unfold); when none is right the check fails
/// with the layer, the CPU and the workaround. Motivated by oneDNN 3.7's blocked backward-data kernels
/// (libtorch 2.10), which return wrong or NaN input gradients for output channels off the block size.
/// </summary>
internal static class ConvolutionSelfCheck
{
    /// <summary>Largest relative error (||g32 - g64|| / ||g64||) accepted; right kernels give about 1e-6.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// Largest relative error accepted in bfloat16 (8-bit significands: rounding the inputs and weights alone costs about
    /// 3e-3; every route gave at most 4.9e-3 on an AMD EPYC with avx512_bf16, at 3 to 16 input channels, 8 to 64 px, and
    /// under ONEDNN_MAX_CPU_ISA=AVX2, AVX512_CORE and AVX512_CORE_BF16). A wrong kernel, like the float32 ones the check
    /// has caught (issue 11), is off by tens of percent.
    /// </summary>
    public const double BFloat16Tolerance = 2e-2;

    /// <summary>The tolerance of a number format: <see cref="Tolerance"/>, or <see cref="BFloat16Tolerance"/> for bfloat16.</summary>
    public static double ToleranceFor(ScalarType compute) => compute == ScalarType.BFloat16 ? BFloat16Tolerance : Tolerance;

    /// <summary>Batch of the check: the kernel bug needs a batch above 1 (at 2 it showed in 20 of 20 one-thread runs).</summary>
    public const int Batch = 2;

    /// <summary>Input sides are capped here to keep the check short; the channel layout decides the kernel (the bug showed at 4 to 64 px).</summary>
    public const int MaxSide = 8;

    /// <summary>Seed of the check's private random generator.</summary>
    private const ulong Seed = 20261202;

    /// <summary>
    /// Checks the layers (name, layer) whose <see cref="RoutedConv2d.LastInputSize"/> is known (run one
    /// forward pass first), reroutes the wrong ones and returns one entry per distinct shape.
    /// With <paramref name="useCache"/>, a shape this process has checked on the same device and thread
    /// count takes that result (a second Fit does not measure again). <paramref name="measure"/> replaces
    /// the measurement (the largest relative error of a layer's shape through a route) in tests of the
    /// rerouting itself, and is never cached.
    /// </summary>
    public static IReadOnlyList<ConvolutionCheck> Run(IEnumerable<(string Name, RoutedConv2d Layer)> layers, Device device,
        Func<RoutedConv2d, ConvolutionRoute, double>? measure = null, bool useCache = false, ScalarType compute = ScalarType.Float32)
    {
        double tolerance = ToleranceFor(compute);
        var groups = layers
            .Where(l => l.Layer.LastInputSize is not null)
            .GroupBy(l => Key(l.Layer))
            .ToList();
        using var generator = new Generator(Seed, device);
        int threads = get_num_threads();
        var checks = new List<ConvolutionCheck>();
        foreach (var group in groups)
        {
            var layer = group.First().Layer;
            var names = group.Select(l => l.Name).ToList();
            string cacheKey = $"{group.Key} on {device} with {threads} thread(s) in {compute} from {layer.Route}";
            IReadOnlyList<(ConvolutionRoute Route, double Error)>? errors = null;
            bool cached = useCache && measure is null && Cache.TryGetValue(cacheKey, out errors);
            if (!cached)
            {
                errors = Measure(layer, measure ?? ((l, route) => WorstError(l, route, threads, generator, device, compute)), tolerance);
                if (useCache && measure is null)
                    Cache[cacheKey] = errors;
            }
            if (!(errors![^1].Error >= 0 && errors[^1].Error <= tolerance))
                throw new InvalidOperationException(FailureMessage(names, group.Key, errors, compute));
            var chosen = errors[^1].Route;
            foreach (var (_, l) in group)
                l.Route = chosen;
            checks.Add(new ConvolutionCheck(group.Key, names, chosen, errors, cached, compute));
        }
        return checks;
    }

    /// <summary>Results of the shapes checked in this process (see <see cref="Run"/>).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<(ConvolutionRoute Route, double Error)>> Cache = new();

    /// <summary>Each route from the layer's own on, measured until one is within <see cref="Tolerance"/> (the last entry), or all of them.</summary>
    private static IReadOnlyList<(ConvolutionRoute Route, double Error)> Measure(RoutedConv2d layer, Func<RoutedConv2d, ConvolutionRoute, double> measure, double tolerance)
    {
        var errors = new List<(ConvolutionRoute, double)>();
        foreach (var route in Candidates(layer.Route))
        {
            double error = measure(layer, route);
            errors.Add((route, error));
            if (error <= tolerance)
                break;
        }
        return errors;
    }

    /// <summary>The routes to try from <paramref name="start"/> on, in order.</summary>
    private static IEnumerable<ConvolutionRoute> Candidates(ConvolutionRoute start)
        => Enum.GetValues<ConvolutionRoute>().Where(r => r >= start);

    /// <summary>The shape as the check runs it (input sides capped at <see cref="MaxSide"/>).</summary>
    private static string Key(RoutedConv2d layer)
    {
        var (h, w) = CheckedSize(layer);
        return string.Create(CultureInfo.InvariantCulture,
            $"{layer.InChannels}->{layer.OutChannels} k{layer.KernelSize} s{layer.Stride} p{layer.Padding}{(layer.Bias is null ? "" : " bias")} at {h}x{w}");
    }

    private static (long Height, long Width) CheckedSize(RoutedConv2d layer)
    {
        var (h, w) = layer.LastInputSize!.Value;
        return (Math.Min(h, MaxSide), Math.Min(w, MaxSide));
    }

    /// <summary>
    /// The larger error of a run on one thread (where the wrong kernels are deterministic) and, when training
    /// uses more, a run on the training thread count (where they are wrong in only some calls), both against
    /// one float64 reference.
    /// </summary>
    private static double WorstError(RoutedConv2d layer, ConvolutionRoute route, int threads, Generator generator, Device device, ScalarType compute)
    {
        using var scope = NewDisposeScope();
        var data = CheckData.Draw(layer, generator, device);
        var reference = data.Reference();
        try
        {
            set_num_threads(1);
            double worst = data.Error(route, reference, compute);
            if (threads > 1)
            {
                set_num_threads(threads);
                worst = Max(worst, data.Error(route, reference, compute));
            }
            return worst;
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    /// <summary>NaN counts as the worst error.</summary>
    private static double Max(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);

    /// <summary>Largest relative error of the output and the input gradient of one random batch through <paramref name="route"/>.</summary>
    internal static double Error(RoutedConv2d layer, ConvolutionRoute route, Generator generator, Device device, ScalarType compute = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var data = CheckData.Draw(layer, generator, device);
        return data.Error(route, data.Reference(), compute);
    }

    /// <summary>One random batch in float64 for a layer's shape: input, weight, bias and an upstream gradient.</summary>
    private sealed record CheckData(Tensor X, Tensor Weight, Tensor? Bias, Tensor Upstream, long Stride, long Padding)
    {
        public static CheckData Draw(RoutedConv2d layer, Generator generator, Device device)
        {
            var (h, w) = CheckedSize(layer);
            long k = layer.KernelSize, s = layer.Stride, p = layer.Padding;
            long outH = (h + 2 * p - k) / s + 1, outW = (w + 2 * p - k) / s + 1;
            var x = randn(new[] { Batch, layer.InChannels, h, w }, dtype: float64, device: device, generator: generator);
            var weight = randn(new[] { layer.OutChannels, layer.InChannels, k, k }, dtype: float64, device: device, generator: generator)
                .div_(Math.Sqrt(layer.InChannels * k * k));
            var bias = layer.Bias is null ? null : randn(new[] { layer.OutChannels }, dtype: float64, device: device, generator: generator);
            var upstream = randn(new[] { Batch, layer.OutChannels, outH, outW }, dtype: float64, device: device, generator: generator);
            return new CheckData(x, weight, bias, upstream, s, p);
        }

        /// <summary>
        /// Output and input gradient in float64 from <see cref="TapSum"/>, which runs no convolution kernel
        /// (libtorch's float64 convolution would also print an NNPACK warning to stderr on every call).
        /// </summary>
        public (Tensor Output, Tensor InputGradient) Reference()
        {
            using var grad = enable_grad();
            var input = X.detach().requires_grad_();
            var y = TapSum(input, Weight, Bias, Stride, Padding);
            return (y.detach(), autograd.grad(new[] { y }, new[] { input }, new[] { Upstream })[0]);
        }

        public double Error(ConvolutionRoute route, (Tensor Output, Tensor InputGradient) reference, ScalarType compute)
        {
            using var scope = NewDisposeScope();
            var (output, gradient) = Run(route, X.to(compute), Weight.to(compute), Bias?.to(compute));
            return Max(RelativeError(output, reference.Output), RelativeError(gradient, reference.InputGradient));
        }

        private (Tensor Output, Tensor InputGradient) Run(ConvolutionRoute route, Tensor x, Tensor weight, Tensor? bias)
        {
            using var grad = enable_grad();
            var input = x.detach().requires_grad_();
            var y = RoutedConv2d.Apply(route, input, weight, bias, Stride, Padding);
            var gradient = autograd.grad(new[] { y }, new[] { input }, new[] { Upstream.to(y.dtype) })[0];
            return (y.detach(), gradient);
        }
    }

    /// <summary>
    /// The convolution as a sum over kernel taps of a strided window of the zero-padded input times the
    /// tap's [Cout, Cin] weights: the textbook definition, sharing no code with any route.
    /// </summary>
    internal static Tensor TapSum(Tensor x, Tensor weight, Tensor? bias, long stride, long padding)
    {
        using var scope = NewDisposeScope();
        long k = weight.shape[2];
        long outH = (x.shape[2] + 2 * padding - k) / stride + 1, outW = (x.shape[3] + 2 * padding - k) / stride + 1;
        var padded = functional.pad(x, new[] { padding, padding, padding, padding });
        Tensor? y = null;
        for (long i = 0; i < k; i++)
        {
            for (long j = 0; j < k; j++)
            {
                var window = padded.slice(2, i, i + stride * (outH - 1) + 1, stride).slice(3, j, j + stride * (outW - 1) + 1, stride);
                var tap = einsum("bchw,oc->bohw", window, weight.select(3, j).select(2, i));
                y = y is null ? tap : y + tap;
            }
        }
        if (bias is not null)
            y = y! + bias.view(1, -1, 1, 1);
        return y!.MoveToOuterDisposeScope();
    }

    /// <summary>||a - b|| / ||b|| in float64 (NaN when a has NaN).</summary>
    public static double RelativeError(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var a64 = a.to(float64);
        var b64 = b.to(float64);
        double norm = b64.norm().item<double>();
        double diff = (a64 - b64).norm().item<double>();
        return norm == 0 ? diff : diff / norm;
    }

    /// <summary>One log line: the shapes checked, how long it took, and each layer that left its route.</summary>
    public static string Describe(IReadOnlyList<ConvolutionCheck> checks, TimeSpan elapsed)
    {
        var float32 = checks.Where(c => c.Compute != ScalarType.BFloat16).ToList();
        var bfloat16 = checks.Where(c => c.Compute == ScalarType.BFloat16).ToList();
        var rerouted = checks.Where(c => c.Rerouted).ToList();
        var padded = float32.Where(c => !c.Rerouted && c.Route == ConvolutionRoute.PaddedChannels).Select(c => c.Shape).ToList();
        var text = string.Create(CultureInfo.InvariantCulture,
            $"Convolution self-check on {CpuDescription.Describe()}: {float32.Count} shapes ({float32.Count(c => c.Cached)} checked earlier in this process), forward and input gradients within {Tolerance:G1} of float64");
        if (bfloat16.Count > 0)
            text += string.Create(CultureInfo.InvariantCulture, $", and the backbone's {bfloat16.Count} shapes in bfloat16 within {BFloat16Tolerance:G1} (largest error {bfloat16.Max(c => c.Errors[^1].Error):G2})");
        text += string.Create(CultureInfo.InvariantCulture, $" in {elapsed.TotalMilliseconds:F0} ms");
        if (padded.Count > 0)
            text += $"; built on the padded route (output channels off oneDNN's block): {string.Join(", ", padded)}";
        foreach (var c in rerouted)
            text += string.Create(CultureInfo.InvariantCulture,
                $"; {c.Shape}{(c.Compute == ScalarType.BFloat16 ? " in bfloat16" : "")} ({string.Join(", ", c.Layers)}) was wrong through {string.Join(", ", c.Errors.SkipLast(1).Select(e => $"{e.Route} (error {e.Error:G3})"))}, now {c.Route}");
        return text + ".";
    }

    private static string FailureMessage(IReadOnlyList<string> layers, string shape, IReadOnlyList<(ConvolutionRoute Route, double Error)> errors, ScalarType compute)
    {
        string fix = compute == ScalarType.BFloat16
            ? "Train with Options.Precision = Float32."
            : $"Set the environment variable {CpuDescription.IsaVariable}=AVX before the process starts (oneDNN then uses its plain kernels), or train on a GPU (Options.Device).";
        return string.Create(CultureInfo.InvariantCulture,
            $"The convolution {string.Join(", ", layers.Select(l => $"'{l}'"))} ({shape}) computes wrong results {(compute == ScalarType.BFloat16 ? "in bfloat16 " : "")}on this CPU, {CpuDescription.Describe()}, " +
            $"through every path LH2Face has: {string.Join(", ", errors.Select(e => $"{e.Route} relative error {e.Error:G3}"))} (tolerance {ToleranceFor(compute):G1}). {fix}");
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Numerics;

/// <summary>A computation built for one precision: the tensors whose gradients are compared (parameters and inputs) and the scalar loss.</summary>
internal sealed class GradientCase(IReadOnlyList<(string Name, Tensor Leaf)> leaves, Tensor loss, params IDisposable[] owned) : IDisposable
{
    public IReadOnlyList<(string Name, Tensor Leaf)> Leaves { get; } = leaves;

    public Tensor Loss { get; } = loss;

    public void Dispose()
    {
        foreach (var o in owned)
            o.Dispose();
    }
}

/// <summary>
/// Runs a computation in float32 and again in float64 from the same values (the float64 run starts from
/// the float32 parameters and inputs, widened), and compares every gradient: per tensor,
/// ||g32 - g64|| / ||g64|| must be at most <see cref="Tolerance"/>. A wrong kernel gives errors near 1
/// (or NaN); right float32 arithmetic gives about 1e-6.
/// </summary>
internal static class Float64Reference
{
    public const double Tolerance = 1e-3;

    /// <summary>
    /// A gradient whose float64 norm is below this fraction of the case's largest is one that vanishes
    /// mathematically (a bias followed by a training-mode batch norm, which removes any shift); its float32
    /// value is rounding noise, so it is measured against the largest gradient instead of its own norm.
    /// </summary>
    public const double VanishingFraction = 1e-7;

    /// <summary>Builds, back-propagates and compares; fails naming each tensor out of tolerance. Returns the errors.</summary>
    public static IReadOnlyList<(string Name, double Error)> AssertAgree(Func<ScalarType, GradientCase> build, string what)
    {
        var single = Gradients(build, ScalarType.Float32);
        var reference = Gradients(build, ScalarType.Float64);
        try
        {
            CollectionAssert.AreEquivalent(reference.Keys.ToList(), single.Keys.ToList(), $"{what}: the same tensors get gradients in both precisions");
            double largest = reference.Values.Max(g => g.norm().item<double>());
            Assert.IsGreaterThan(0.0, largest, $"{what}: some gradient must be non-zero for the check to mean anything");
            var errors = new List<(string Name, double Error)>();
            foreach (var (name, g64) in reference)
            {
                double norm = g64.norm().item<double>();
                double diff = (single[name] - g64).norm().item<double>();
                errors.Add((name, norm > VanishingFraction * largest ? diff / norm : diff / largest));
            }
            var bad = errors.Where(e => !(e.Error <= Tolerance)).ToList();
            Assert.IsEmpty(bad, $"{what}: float32 gradients off the float64 reference (tolerance {Tolerance}): " +
                string.Join(", ", bad.Select(b => $"{b.Name} {b.Error:G3}")));
            var worst = errors.MaxBy(e => e.Error);
            Console.WriteLine($"{what}: {errors.Count} gradients, worst {worst.Name} {worst.Error:G3}");
            return errors;
        }
        finally
        {
            foreach (var t in single.Values.Concat(reference.Values))
                t.Dispose();
        }
    }

    internal static Dictionary<string, Tensor> Gradients(Func<ScalarType, GradientCase> build, ScalarType dtype)
    {
        var result = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        using var c = build(dtype);
        c.Loss.backward();
        foreach (var (name, leaf) in c.Leaves)
        {
            if (leaf.grad is { } g)
                result[name] = g.detach().to(ScalarType.Float64).clone().MoveToOuterDisposeScope();
        }
        return result;
    }

    /// <summary>Float32 data from a private generator (the same for both precisions), cast to <paramref name="dtype"/>.</summary>
    public static Tensor Normal(ScalarType dtype, ulong seed, params long[] shape)
    {
        using var generator = new Generator(seed);
        return randn(shape, dtype: ScalarType.Float32, generator: generator).to(dtype);
    }

    /// <summary>Uniform float32 data in [low, high) from a private generator, cast to <paramref name="dtype"/>.</summary>
    public static Tensor Uniform(ScalarType dtype, ulong seed, double low, double high, params long[] shape)
    {
        using var generator = new Generator(seed);
        return (rand(shape, dtype: ScalarType.Float32, generator: generator) * (high - low) + low).to(dtype);
    }

    /// <summary>An input leaf that takes a gradient.</summary>
    public static Tensor Input(Tensor t) => t.requires_grad_(true);

    /// <summary>The module's trainable parameters, named, with <paramref name="prefix"/>.</summary>
    public static IEnumerable<(string, Tensor)> Parameters(nn.Module module, string prefix = "")
        => module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (prefix + p.name, (Tensor)p.parameter));

    /// <summary>A fixed random linear functional of <paramref name="output"/>: every output element gets its own upstream gradient.</summary>
    public static Tensor Probe(Tensor output, ulong seed)
        => (output * Normal(output.dtype, seed, output.shape)).sum();

    /// <summary>Runs <paramref name="action"/> with libtorch on <paramref name="threads"/> threads, then restores the count.</summary>
    public static void AtThreads(int threads, Action action)
    {
        int before = get_num_threads();
        set_num_threads(threads);
        try
        {
            action();
        }
        finally
        {
            set_num_threads(before);
        }
    }
}

namespace Microsoft.ML.LH2Face;

/// <summary>
/// A SplitMix64 stream keyed by up to four integers. Written by hand (rather than System.Random or
/// HashCode.Combine) because every draw must be the same in every process and .NET version (synthetic
/// data, training data order and augmentation):
/// HashCode is randomised per process and System.Random's algorithm is not a documented contract.
/// This one source file is compiled into both libraries (and into the test projects that see neither
/// library's internal copy), so the trainer does not depend on the data library for it.
/// </summary>
internal struct StableRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    public StableRandom(long a, long b = 0, long c = 0, long d = 0)
    {
        _state = Mix(Mix(Mix(Mix((ulong)a + Golden) ^ (ulong)b) ^ (ulong)c) ^ (ulong)d);
    }

    public static ulong Mix(ulong z)
    {
        z += Golden;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        _state += Golden;
        ulong z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)((NextULong() >> 33) % (ulong)n);

    /// <summary>Uniform integer in [min, max).</summary>
    public int Next(int min, int max) => min + Next(max - min);

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Uniform in [min, max] with a random sign.</summary>
    public double SignedUniform(double min, double max) => (Chance(0.5) ? -1 : 1) * Uniform(min, max);

    public double Gaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A stateless hash of a lattice point to [0, 1), for value noise in textures.</summary>
    public static float Hash01(int x, int y, ulong seed)
    {
        ulong h = Mix(seed ^ ((ulong)(uint)x * 0x632BE59BD9B4E019UL) ^ ((ulong)(uint)y * 0x85157AF5UL));
        return (h >> 40) * (1f / (1 << 24));
    }

    /// <summary>Smooth value noise in [0, 1) at (x, y) lattice units.</summary>
    public static float ValueNoise(float x, float y, ulong seed)
    {
        int x0 = (int)MathF.Floor(x), y0 = (int)MathF.Floor(y);
        float fx = x - x0, fy = y - y0;
        fx = fx * fx * (3 - 2 * fx);
        fy = fy * fy * (3 - 2 * fy);
        float a = Hash01(x0, y0, seed), b = Hash01(x0 + 1, y0, seed);
        float c = Hash01(x0, y0 + 1, seed), d = Hash01(x0 + 1, y0 + 1, seed);
        return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
    }
}

using System.Collections.Concurrent;
using System.Numerics;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Draws SynthFace identities and renders their images. Every image is a pure function of
/// (options, identity index, sample index), so any subset can be generated in any order and in parallel
/// with the same bytes. Thread-safe.
/// </summary>
public sealed class SynthFaceGenerator
{
    private readonly SynthFaceOptions _options;
    private readonly ConcurrentDictionary<int, Lazy<Entry>> _cache = new();
    private readonly object _evictLock = new();

    /// <summary>A cached identity: its model, and its frontal render made on first use (the image-only path never needs it).</summary>
    private sealed class Entry(SynthFaceModel model, int size)
    {
        private readonly Lazy<byte[]> _frontal = new(() =>
        {
            var frontal = new byte[size * size * 3];
            SynthFaceRenderer.Render(model, SynthFaceFactors.Neutral, size, frontal, null, new float[10]);
            return frontal;
        }, LazyThreadSafetyMode.ExecutionAndPublication);

        public SynthFaceModel Model => model;

        public byte[] Frontal => _frontal.Value;
    }

    /// <summary>Share of the session's light azimuth that easy images keep (their light is also 0..40 degrees high, ambient at least 0.4).</summary>
    public const double EasyLightShare = 0.25;

    /// <summary>Creates a generator; the options are validated and copied.</summary>
    public SynthFaceGenerator(SynthFaceOptions? options = null)
    {
        _options = (options ?? new SynthFaceOptions()).Clone();
        _options.Validate();
    }

    /// <summary>A copy of the options.</summary>
    public SynthFaceOptions Options => _options.Clone();

    /// <summary>Side of the output images in pixels.</summary>
    public int ImageSize => _options.ImageSize;

    /// <summary>The parameters of identity <paramref name="identity"/>.</summary>
    public SynthFaceIdentity GetIdentity(int identity) => SynthFaceIdentity.Create(_options.Seed, identity, _options.LookAlikeRate, _options.LookAlikeSpread);

    /// <summary>The nuisance factors of image <paramref name="sample"/> of identity <paramref name="identity"/> (no rendering).</summary>
    public SynthFaceFactors DrawFactors(int identity, int sample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(identity);
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        var o = _options;
        int session = sample / o.ImagesPerSession;
        var srng = new StableRandom(o.Seed, 3, identity, session);
        double az = srng.Uniform(-70, 70), el = srng.Uniform(-20, 60);
        double ambient = srng.Uniform(0.3, 0.55), diffuse = srng.Uniform(0.45, 0.85);
        float temp = (float)srng.Uniform(-1, 1);
        var lightColor = new Vector3(1 + 0.1f * temp, 1 + 0.02f * temp, 1 - 0.12f * temp) / (1 + 0.1f * MathF.Max(0, temp));
        var bgA = Vector3.Lerp(new Vector3((float)srng.NextDouble(), (float)srng.NextDouble(), (float)srng.NextDouble()), new Vector3(0.5f), (float)srng.Uniform(0.2, 0.7));
        var bgB = Vector3.Clamp(bgA * (float)srng.Uniform(0.4, 1.3) + new Vector3((float)srng.Uniform(-0.1, 0.1)), Vector3.Zero, Vector3.One);
        double bgAngle = srng.Uniform(0, 360);
        double bgTexture = srng.Chance(0.5) ? srng.Uniform(0, 0.15) : 0;

        var rng = new StableRandom(o.Seed, 2, identity, sample);
        az += rng.Uniform(-10, 10);
        el += rng.Uniform(-5, 5);
        double yaw, pitch, roll;
        Span<double> expr = stackalloc double[4];
        bool hardDraw = rng.Chance(o.HardRate);
        if (!hardDraw)
        {
            // Easy images see their session's light softened: strong side or under light is part of what makes an image hard.
            az *= EasyLightShare;
            el = Math.Clamp(el, 0, 40);
            ambient = Math.Max(ambient, 0.4);
        }
        if (hardDraw)
        {
            bool yawHard = rng.Chance(0.6), pitchHard = rng.Chance(0.3), exprHard = rng.Chance(0.35);
            if (!pitchHard && !exprHard) yawHard = true;
            yaw = yawHard ? rng.SignedUniform(40, 75) : rng.Uniform(-30, 30);
            pitch = pitchHard ? rng.SignedUniform(20, 30) : rng.Uniform(-15, 15);
            roll = rng.Uniform(-20, 20);
            for (int k = 0; k < 4; k++) expr[k] = rng.Chance(0.3) ? rng.Uniform(0, 0.4) : 0;
            if (exprHard) expr[rng.Next(4)] = rng.Uniform(0.6, 1);
        }
        else
        {
            yaw = rng.Uniform(-15, 15);
            pitch = rng.Uniform(-8, 8);
            roll = rng.Uniform(-6, 6);
            for (int k = 0; k < 4; k++) expr[k] = rng.Chance(0.25) ? rng.Uniform(0, 0.35) : 0;
        }
        var occluder = SynthFaceOccluder.None;
        double occX = 0, occY = 0, occAngle = 0, occTone = 0;
        if (rng.Chance(o.OccluderRate))
        {
            occluder = (SynthFaceOccluder)(1 + rng.Next(3));
            occX = occluder == SynthFaceOccluder.Mask ? rng.Next(4) : rng.Uniform(30, 82);
            occY = rng.Uniform(60, 105);
            occAngle = rng.Uniform(-150, -30);
            occTone = rng.NextDouble();
        }
        double jx = Math.Clamp(1.5 * rng.Gaussian(), -4, 4), jy = Math.Clamp(1.5 * rng.Gaussian(), -4, 4);
        double js = Math.Exp(Math.Clamp(0.04 * rng.Gaussian(), -0.1, 0.1));
        var degradation = SynthFaceDegradation.None;
        if (rng.Chance(o.LowQualityRate))
        {
            int kind = rng.Next(3);
            degradation = new SynthFaceDegradation
            {
                GaussianBlurSigma = kind == 0 ? rng.Uniform(1.2, 2.8) : 0,
                MotionBlurLength = kind == 1 ? rng.Uniform(5, 12) : 0,
                MotionBlurAngle = kind == 1 ? rng.Uniform(0, 180) : 0,
                DownsampleSize = kind == 2 ? 16 + rng.Next(33) : 0,
                NoiseSigma = rng.Chance(0.5) ? rng.Uniform(4, 14) : 0,
                JpegQuality = rng.Chance(0.5) ? 8 + rng.Next(23) : 0,
                ExposureGain = rng.Chance(0.4) ? Math.Pow(2, rng.SignedUniform(0.6, 1.3)) : 1,
                NoiseSeed = (long)rng.NextULong(),
            };
        }
        return new SynthFaceFactors
        {
            Session = session,
            Yaw = yaw, Pitch = pitch, Roll = roll,
            Smile = expr[0], MouthOpen = expr[1], EyesClosed = expr[2], BrowsRaised = expr[3],
            LightAzimuth = az, LightElevation = el, Ambient = ambient, Diffuse = diffuse, LightColor = lightColor,
            BackgroundA = bgA, BackgroundB = bgB, BackgroundAngle = bgAngle, BackgroundTexture = bgTexture,
            JitterX = jx, JitterY = jy, JitterScale = js,
            Occluder = occluder, OccluderX = occX, OccluderY = occY, OccluderAngle = occAngle, OccluderTone = occTone,
            Degradation = degradation,
        };
    }

    /// <summary>Renders image <paramref name="sample"/> of identity <paramref name="identity"/> with its drawn factors.</summary>
    public SynthFaceSample Generate(int identity, int sample) => Render(identity, DrawFactors(identity, sample), sample);

    /// <summary>Renders identity <paramref name="identity"/> under hand-set <paramref name="factors"/>.</summary>
    public SynthFaceSample Render(int identity, SynthFaceFactors factors, int sample = -1)
    {
        ArgumentNullException.ThrowIfNull(factors);
        var entry = GetEntry(identity);
        int size = _options.ImageSize;
        var rgb = new byte[size * size * 3];
        var depth = new float[size * size];
        var landmarks = new float[10];
        SynthFaceRenderer.Render(entry.Model, factors, size, rgb, depth, landmarks);
        SynthFaceDegrader.Apply(factors.Degradation, rgb, size);
        return new SynthFaceSample(identity, sample, factors, size, rgb, landmarks, depth, entry.Frontal);
    }

    /// <summary>The image bytes only (no depth, no sample object): the fast path of the data view and the benchmark.</summary>
    internal byte[] RenderRgb(int identity, SynthFaceFactors factors, float[] landmarks)
    {
        var entry = GetEntry(identity);
        int size = _options.ImageSize;
        var rgb = new byte[size * size * 3];
        SynthFaceRenderer.Render(entry.Model, factors, size, rgb, null, landmarks);
        SynthFaceDegrader.Apply(factors.Degradation, rgb, size);
        return rgb;
    }

    /// <summary>The frontal neutral render of an identity (shared, read-only).</summary>
    public ReadOnlyMemory<byte> RenderFrontal(int identity) => GetEntry(identity).Frontal;

    private Entry GetEntry(int identity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(identity);
        var lazy = _cache.GetOrAdd(identity, i => new Lazy<Entry>(() => Build(i), LazyThreadSafetyMode.ExecutionAndPublication));
        if (_cache.Count > _options.IdentityCacheSize)
        {
            lock (_evictLock)
            {
                // Identity-major generation makes the lowest indices the stalest.
                foreach (var key in _cache.Keys.Order().Take(Math.Max(0, _cache.Count - _options.IdentityCacheSize)))
                {
                    if (key != identity) _cache.TryRemove(key, out _);
                }
            }
        }
        return lazy.Value;
    }

    private Entry Build(int identity) => new(new SynthFaceModel(GetIdentity(identity)), _options.ImageSize);
}

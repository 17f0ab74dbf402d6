using System.Numerics;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// The nuisance factors of one SynthFace image. Angles are in degrees: positive yaw turns the nose towards
/// +x (image right), positive pitch raises the nose, positive roll turns the face clockwise in the image.
/// Lighting and background are shared by the images of one session (see <see cref="SynthFaceOptions.ImagesPerSession"/>).
/// Lengths are in pixels of the 112x112 frame and scale with the image size.
/// </summary>
public sealed record SynthFaceFactors
{
    /// <summary>|yaw| from which an image is hard (degrees).</summary>
    public const double HardYaw = 40;

    /// <summary>|pitch| from which an image is hard (degrees).</summary>
    public const double HardPitch = 20;

    /// <summary>Expression intensity from which an image is hard.</summary>
    public const double HardExpression = 0.5;

    /// <summary>
    /// Frontal, neutral expression, neutral light (from the front and 20 degrees above, ambient 0.45,
    /// diffuse 0.6, white), plain grey background, no jitter, occluder or degradation.
    /// </summary>
    public static SynthFaceFactors Neutral { get; } = new();

    /// <summary>Session (media) index of the image within its identity; -1 when set by hand.</summary>
    public int Session { get; init; } = -1;

    /// <summary>Yaw in degrees (-75..75).</summary>
    public double Yaw { get; init; }

    /// <summary>Pitch in degrees (-30..30).</summary>
    public double Pitch { get; init; }

    /// <summary>Roll in degrees (-20..20).</summary>
    public double Roll { get; init; }

    /// <summary>Smile intensity (0..1).</summary>
    public double Smile { get; init; }

    /// <summary>Open-mouth intensity (0..1).</summary>
    public double MouthOpen { get; init; }

    /// <summary>Eye closure (0..1); the eyes are drawn closed from 0.5.</summary>
    public double EyesClosed { get; init; }

    /// <summary>Raised-brows intensity (0..1).</summary>
    public double BrowsRaised { get; init; }

    /// <summary>Light azimuth in degrees, 0 from the camera, positive from image right.</summary>
    public double LightAzimuth { get; init; }

    /// <summary>Light elevation in degrees, positive from above.</summary>
    public double LightElevation { get; init; } = 20;

    /// <summary>Ambient light strength.</summary>
    public double Ambient { get; init; } = 0.45;

    /// <summary>Diffuse (Lambertian) light strength.</summary>
    public double Diffuse { get; init; } = 0.6;

    /// <summary>Light colour as RGB multipliers.</summary>
    public Vector3 LightColor { get; init; } = Vector3.One;

    /// <summary>Background colour at one end of its gradient (RGB in 0..1).</summary>
    public Vector3 BackgroundA { get; init; } = new(0.5f, 0.5f, 0.5f);

    /// <summary>Background colour at the other end of its gradient (RGB in 0..1).</summary>
    public Vector3 BackgroundB { get; init; } = new(0.5f, 0.5f, 0.5f);

    /// <summary>Direction of the background gradient in degrees.</summary>
    public double BackgroundAngle { get; init; }

    /// <summary>Amplitude of the background's stripe texture (0 for a plain gradient).</summary>
    public double BackgroundTexture { get; init; }

    /// <summary>Detector-like translation jitter along x in pixels.</summary>
    public double JitterX { get; init; }

    /// <summary>Detector-like translation jitter along y in pixels.</summary>
    public double JitterY { get; init; }

    /// <summary>Detector-like scale jitter (1 for none).</summary>
    public double JitterScale { get; init; } = 1;

    /// <summary>The occluder, if any.</summary>
    public SynthFaceOccluder Occluder { get; init; }

    /// <summary>Occluder placement: for a hand, its centre x in pixels; for a mask, its colour index.</summary>
    public double OccluderX { get; init; }

    /// <summary>Occluder placement: for a hand, its centre y in pixels.</summary>
    public double OccluderY { get; init; }

    /// <summary>Occluder placement: for a hand, the direction of the fingers in degrees.</summary>
    public double OccluderAngle { get; init; }

    /// <summary>Skin tone (0..1) of an occluding hand.</summary>
    public double OccluderTone { get; init; }

    /// <summary>The low-quality degradations; <see cref="SynthFaceDegradation.None"/> for a high-quality image.</summary>
    public SynthFaceDegradation Degradation { get; init; } = SynthFaceDegradation.None;

    /// <summary>The strongest expression intensity.</summary>
    public double Expression => Math.Max(Math.Max(Smile, MouthOpen), Math.Max(EyesClosed, BrowsRaised));

    /// <summary>HQ when no degradation applies, LQ otherwise.</summary>
    public SynthFaceQuality Quality => Degradation.IsNone ? SynthFaceQuality.HQ : SynthFaceQuality.LQ;

    /// <summary>Hard from large pose, strong expression or an occluder (thresholds <see cref="HardYaw"/>, <see cref="HardPitch"/>, <see cref="HardExpression"/>).</summary>
    public SynthFaceHardness Hardness =>
        Math.Abs(Yaw) >= HardYaw || Math.Abs(Pitch) >= HardPitch || Expression >= HardExpression || Occluder != SynthFaceOccluder.None
            ? SynthFaceHardness.Hard
            : SynthFaceHardness.Easy;
}

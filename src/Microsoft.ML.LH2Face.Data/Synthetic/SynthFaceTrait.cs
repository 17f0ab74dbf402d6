namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// The identity parameters of a SynthFace person. Each is stored as a unit value in [0, 1] that the
/// renderer maps to a physical range (pixels in the 112x112 template frame, or a colour palette);
/// the ranges are in <c>SynthFaceModel</c>. Discrete traits (<see cref="FacialHairStyle"/>,
/// <see cref="Glasses"/>, <see cref="Baldness"/>) are thresholded unit values and are copied, not
/// perturbed, into look-alikes.
/// </summary>
public enum SynthFaceTrait
{
    /// <summary>Half-width of the head ellipsoid (38..46 px).</summary>
    HeadWidth,
    /// <summary>Height of the cranium above the eye line (58..72 px).</summary>
    HeadHeight,
    /// <summary>Depth of the head ellipsoid (42..52 px).</summary>
    HeadDepth,
    /// <summary>Flatness of the front of the face (cosine exponent 0.45..0.8).</summary>
    FaceFlatness,
    /// <summary>Jaw narrowing towards the chin (0.15..0.45).</summary>
    JawTaper,
    /// <summary>Distance from the mouth to the bottom of the chin (16..26 px).</summary>
    ChinLength,
    /// <summary>Forward projection of the chin (0..4 px).</summary>
    ChinProjection,
    /// <summary>Cheekbone prominence (0..4 px).</summary>
    Cheekbones,
    /// <summary>Brow ridge prominence (0.5..4 px).</summary>
    BrowRidge,
    /// <summary>Eye socket depth (2..6 px).</summary>
    EyeSocketDepth,
    /// <summary>Eye opening, half-height of the eye (1.8..3.2 px).</summary>
    EyeOpening,
    /// <summary>Eye half-width (5.5..7.5 px).</summary>
    EyeWidth,
    /// <summary>Eye spacing offset (-0.7..0.7 px per eye; the alignment absorbs most of it).</summary>
    EyeSpacing,
    /// <summary>Height of the nose bridge (1..5 px).</summary>
    NoseBridge,
    /// <summary>Where the nose ridge starts rising, as a share of the eye-to-tip distance (0..0.6).</summary>
    NoseLength,
    /// <summary>Half-width of the nostril wings (3.5..7 px).</summary>
    NoseWidth,
    /// <summary>Size of the nose tip bulb (1..3 px).</summary>
    NoseTip,
    /// <summary>Forward projection of the nose tip (5..11 px).</summary>
    NoseProjection,
    /// <summary>Nose tip height offset (-0.7..0.7 px).</summary>
    NoseHeight,
    /// <summary>Lip fullness (0.6..1.4).</summary>
    LipFullness,
    /// <summary>Mouth width offset (-0.7..0.7 px per corner).</summary>
    MouthWidth,
    /// <summary>Mouth height offset (-0.7..0.7 px).</summary>
    MouthHeight,
    /// <summary>Ear size (0.7..1.3).</summary>
    EarSize,
    /// <summary>Skin tone, dark (0) to light (1).</summary>
    SkinTone,
    /// <summary>Skin undertone, cool (0) to warm (1).</summary>
    SkinWarmth,
    /// <summary>Strength of low-frequency skin blotches and cheek redness.</summary>
    SkinBlotch,
    /// <summary>Lip colour, pale (0) to dark red (1).</summary>
    LipTone,
    /// <summary>Iris colour along a palette: dark brown, brown, hazel, green, grey, blue.</summary>
    IrisHue,
    /// <summary>Iris radius (2.1..3.0 px).</summary>
    IrisSize,
    /// <summary>Eyebrow thickness (0.9..2.6 px).</summary>
    BrowThickness,
    /// <summary>Eyebrow arch (0..2.5 px).</summary>
    BrowArch,
    /// <summary>Eyebrow half-length (7..11 px).</summary>
    BrowLength,
    /// <summary>Eyebrow tilt (-1.5..1.5 px, outer end up for positive).</summary>
    BrowTilt,
    /// <summary>Eyebrow darkness relative to the hair.</summary>
    BrowDarkness,
    /// <summary>Distance of the eyebrows above the eyes (6.5..10 px).</summary>
    BrowHeight,
    /// <summary>Hair darkness, blond (0) to black (1).</summary>
    HairDarkness,
    /// <summary>Hair hue: below 0.08 grey, above 0.85 red, else natural.</summary>
    HairHue,
    /// <summary>Front hairline height (8..30 px from the top of the crop).</summary>
    HairlineHeight,
    /// <summary>Hairline shape: widow's peak (0) to receding temples (1).</summary>
    HairlineShape,
    /// <summary>Hair volume (1..6 px).</summary>
    HairVolume,
    /// <summary>Hair length at the back (60..115 px).</summary>
    HairLength,
    /// <summary>Above 0.85: bald crown with a fringe at the sides and back.</summary>
    Baldness,
    /// <summary>Facial hair: below 0.6 none, then stubble, moustache, goatee, full beard.</summary>
    FacialHairStyle,
    /// <summary>Facial hair density.</summary>
    FacialHairDensity,
    /// <summary>Freckle density (visible above 0.7).</summary>
    Freckles,
    /// <summary>Below 0.12: wears glasses in every image.</summary>
    Glasses,
}

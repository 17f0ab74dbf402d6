using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>One row of the SynthFace <see cref="IDataView"/> (see <see cref="SynthFaceDataView"/>).</summary>
public sealed class SynthFaceRow
{
    /// <summary>The image (column "Image"; the data view sets its type to the generator's size, the attribute only registers the type).</summary>
    [ImageType(FaceTemplate.Size, FaceTemplate.Size)]
    public MLImage? Image;

    /// <summary>
    /// Identity as a key (column "Label"). Rows from <see cref="SynthFaceDataView.Rows"/> hold the 0-based position of
    /// the identity; loaded into the view it becomes the key's raw value position + 1 (0 is missing), which is also
    /// what <c>CreateEnumerable</c> gives back.
    /// </summary>
    public uint Label;

    /// <summary>Identity index within the generator's set.</summary>
    public int Identity;

    /// <summary>Sample index within the identity.</summary>
    public int Sample;

    /// <summary>Session (media) index within the identity.</summary>
    public int Session;

    /// <summary>"HQ" or "LQ".</summary>
    public string Quality = "";

    /// <summary>"Easy" or "Hard".</summary>
    public string Hardness = "";

    /// <summary>Yaw in degrees.</summary>
    public float Yaw;

    /// <summary>Pitch in degrees.</summary>
    public float Pitch;

    /// <summary>Roll in degrees.</summary>
    public float Roll;

    /// <summary>Smile intensity.</summary>
    public float Smile;

    /// <summary>Open-mouth intensity.</summary>
    public float MouthOpen;

    /// <summary>Eye closure.</summary>
    public float EyesClosed;

    /// <summary>Raised-brows intensity.</summary>
    public float BrowsRaised;

    /// <summary>Light azimuth in degrees.</summary>
    public float LightAzimuth;

    /// <summary>Light elevation in degrees.</summary>
    public float LightElevation;

    /// <summary>Occluder name ("None", "Hand", "Mask", "Sunglasses").</summary>
    public string Occluder = "";

    /// <summary>The 5 projected landmarks (x0, y0, ..., x4, y4) in pixels.</summary>
    [VectorType(10)]
    public float[] Landmarks = new float[10];
}

namespace Microsoft.ML.LH2Face.Data;

/// <summary>
/// The ArcFace 5-point alignment template for 112x112 crops (insightface convention):
/// left eye, right eye, nose tip, left mouth corner, right mouth corner, as (x, y) pixel coordinates.
/// </summary>
public static class FaceTemplate
{
    /// <summary>Side of the square crop the template is defined for.</summary>
    public const int Size = 112;

    /// <summary>The five template points (x0, y0, x1, y1, ...), for a 112x112 crop.</summary>
    public static ReadOnlySpan<float> Points112 => new float[]
    {
        38.2946f, 51.6963f,
        73.5318f, 51.5014f,
        56.0252f, 71.7366f,
        41.5493f, 92.3655f,
        70.7299f, 92.2041f,
    };
}

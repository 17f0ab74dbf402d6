namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>An object covering part of the face in one image.</summary>
public enum SynthFaceOccluder
{
    /// <summary>Nothing covers the face.</summary>
    None,
    /// <summary>A hand in front of part of the face (drawn in the image plane).</summary>
    Hand,
    /// <summary>A face mask over the nose, mouth and chin (drawn on the face surface).</summary>
    Mask,
    /// <summary>Dark sunglasses over the eyes (drawn on the face surface).</summary>
    Sunglasses,
}

namespace Microsoft.ML.LH2Face;

/// <summary>The network that maps an aligned face image to its feature vector z.</summary>
public enum LH2FaceBackbone
{
    /// <summary>
    /// A compact IResNet (one block per stage, widths 16-32-64-128) that trains at a usable speed on a
    /// few CPU cores at 32-64 px inputs. Not for production accuracy.
    /// </summary>
    Compact,

    /// <summary>IResNet-18 (insightface arcface_torch layout, blocks 2-2-2-2).</summary>
    IResNet18,

    /// <summary>IResNet-34 (blocks 3-4-6-3).</summary>
    IResNet34,

    /// <summary>IResNet-50 (blocks 3-4-14-3), the arcface_torch default.</summary>
    IResNet50,

    /// <summary>IResNet-100 (blocks 3-13-30-3), the backbone of the published IJB-B/C numbers.</summary>
    IResNet100,
}

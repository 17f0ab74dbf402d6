namespace Microsoft.ML.LH2Face;

/// <summary>
/// What the renderer of a model trained with <c>Options.UseRenderer</c> makes of one image, at its
/// resolution R (<see cref="LH2FaceTransformer.RendererResolution"/>).
/// </summary>
/// <param name="Reconstruction">The input-view reconstruction I_hat: planar RGB 0..255, 3 * R * R values.</param>
/// <param name="CanonicalFace">The canonical face J (frontal view, the image's light): planar RGB 0..255, 3 * R * R values.</param>
/// <param name="CanonicalDepth">The canonical depth D: R * R distances from the camera, about 0.9..1.1 (smaller is nearer).</param>
public sealed record LH2FaceRendering(float[] Reconstruction, float[] CanonicalFace, float[] CanonicalDepth);

using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// What <see cref="FaceRenderer.Render"/> produces for a batch; images are RGB in 0..1 (not clamped:
/// the losses need the gradient), at the renderer resolution R. The tensors belong to the caller's
/// dispose scope.
/// </summary>
/// <param name="Depth">Canonical depth D [B, 1, R, R] in [0.9, 1.1].</param>
/// <param name="Albedo">Canonical albedo A [B, 3, R, R] in (0, 1).</param>
/// <param name="Light">[B, 4]: ambient a and diffuse b in (0, 1), light direction x and y in (-1, 1) (z is -1 before normalising).</param>
/// <param name="View">[B, 5]: yaw, pitch, roll (radians), tx, ty (image half-widths).</param>
/// <param name="Canonical">The canonical image J = A * (a + b max(0, n . l)) [B, 3, R, R].</param>
/// <param name="Reconstruction">The input-view reconstruction I_hat: J inverse-warped by the view [B, 3, R, R].</param>
/// <param name="FlippedReconstruction">I_hat of the horizontally flipped depth and albedo (same light and view), when asked for.</param>
internal sealed record RenderOutput(
    Tensor Depth, Tensor Albedo, Tensor Light, Tensor View, Tensor Canonical, Tensor Reconstruction, Tensor? FlippedReconstruction);

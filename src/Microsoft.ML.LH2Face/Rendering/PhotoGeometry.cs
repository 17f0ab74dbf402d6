using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// The image formation of the renderer (METHOD.md section 4), written from the formulas:
/// Lambertian shading with normals from depth differences, and an inverse warp from the canonical
/// frame to the input view. <see cref="PhotoGeometryOnnx"/> writes the same computation into ONNX.
/// <para>
/// Frame: image coordinates in [-1, 1] at pixel centres as grid_sample reads them with
/// align_corners = false (x[j] = (2j + 1) / W - 1, x right, y down); z points away from the camera.
/// The canonical depth D is a distance around 1; the surface point of canonical pixel (x, y) is
/// (x, y, h) with h = D - 1, so the view rotates the face about the point at depth 1. Projection is
/// orthographic (face crops are narrow-angle), so a translation along z would not change the image
/// and the view is (yaw, pitch, roll, tx, ty).
/// </para>
/// </summary>
internal static class PhotoGeometry
{
    /// <summary>Columns of a view tensor [B, 5]: yaw, pitch, roll (radians), tx, ty (image half-widths).</summary>
    public const int ViewSize = 5;

    /// <summary>Columns of a raw light tensor [B, 4]: ambient, diffuse (after a sigmoid), light x and y (after a tanh).</summary>
    public const int LightSize = 4;

    /// <summary>Pixel-centre coordinates of a side of <paramref name="count"/> pixels: (2j + 1) / count - 1.</summary>
    public static float[] PixelCentres(long count)
    {
        var c = new float[count];
        for (int j = 0; j < count; j++)
            c[j] = (float)((2.0 * j + 1) / count - 1);
        return c;
    }

    /// <summary>
    /// dh/dx (<paramref name="dim"/> = 3) or dh/dy (2) of a [B, 1, H, W] map, in image half-widths:
    /// central differences inside, one-sided at the borders (exact for a plane everywhere).
    /// </summary>
    public static Tensor Slope(Tensor h, int dim)
    {
        long n = h.shape[dim];
        double step = 2.0 / n;
        var d = h.narrow(dim, 1, n - 1) - h.narrow(dim, 0, n - 1);
        var before = cat(new[] { d.narrow(dim, 0, 1), d }, dim);
        var after = cat(new[] { d, d.narrow(dim, n - 2, 1) }, dim);
        using var factor = (0.5 / step).ToScalar(); // held for the call, see FaceNetwork.Features
        return (before + after).mul(factor);
    }

    /// <summary>Unit surface normals [B, 3, H, W] of a depth map [B, 1, H, W], facing the camera: (h_x, h_y, -1) / norm.</summary>
    public static Tensor Normals(Tensor depth)
    {
        var gx = Slope(depth, 3);
        var gy = Slope(depth, 2);
        var n = cat(new[] { gx, gy, -ones_like(gx) }, 1);
        // The norm is at least 1 (the z component is -1): no epsilon needed.
        return n / n.norm(1, keepdim: true);
    }

    /// <summary>Unit light direction [B, 3] (from the surface towards the light) from its image-plane part [B, 2]: (lx, ly, -1) / norm.</summary>
    public static Tensor LightDirection(Tensor lightXY)
    {
        var l = cat(new[] { lightXY, -ones_like(lightXY.narrow(1, 0, 1)) }, 1);
        return l / l.norm(1, keepdim: true);
    }

    /// <summary>Lambertian shading [B, 1, H, W] = ambient + diffuse * max(0, n . l); ambient, diffuse [B, 1]; direction [B, 3] unit.</summary>
    public static Tensor Shading(Tensor normals, Tensor ambient, Tensor diffuse, Tensor direction)
    {
        long b = normals.shape[0];
        var cosine = (normals * direction.view(b, 3, 1, 1)).sum(1, keepdim: true);
        return ambient.view(b, 1, 1, 1) + diffuse.view(b, 1, 1, 1) * functional.relu(cosine);
    }

    /// <summary>
    /// The rotation R = Rz(roll) Ry(yaw) Rx(pitch) as nine [B] tensors, row-major (R[3 * row + col]);
    /// angles [B, 3] = yaw, pitch, roll.
    /// </summary>
    public static Tensor[] Rotation(Tensor angles)
    {
        var yaw = angles.select(1, 0);
        var pitch = angles.select(1, 1);
        var roll = angles.select(1, 2);
        var (cy, sy) = (yaw.cos(), yaw.sin());
        var (cp, sp) = (pitch.cos(), pitch.sin());
        var (cr, sr) = (roll.cos(), roll.sin());
        return new[]
        {
            cr * cy, cr * sy * sp - sr * cp, cr * sy * cp + sr * sp,
            sr * cy, sr * sy * sp + cr * cp, sr * sy * cp - cr * sp,
            -sy, cy * sp, cy * cp,
        };
    }

    /// <summary>
    /// The canonical-frame sampling grid [B, H, W, 2] of the input view: for each output pixel, where
    /// its camera ray meets the canonical surface. With the view ray (a, b, s) (a = x - tx, b = y - ty,
    /// s the unknown depth along it), the canonical point is R^T (a, b, s) = a R_0 + b R_1 + s R_2 (R_k
    /// the rows of R). Start on the plane h = 0 and take <paramref name="iterations"/> fixed-point steps
    /// s = (h(p_x(s), p_y(s)) - a R_02 - b R_12) / R_22, reading h from the depth map by grid_sample.
    /// Occlusion is not modelled: each ray keeps the intersection the iteration reaches.
    /// </summary>
    public static Tensor WarpGrid(Tensor depth, Tensor view, int iterations)
    {
        long batch = depth.shape[0], height = depth.shape[2], width = depth.shape[3];
        var r = Rotation(view.narrow(1, 0, 3));
        Tensor E(int row, int col) => r[3 * row + col].view(batch, 1, 1);
        var tx = view.select(1, 3).view(batch, 1, 1);
        var ty = view.select(1, 4).view(batch, 1, 1);
        var xs = tensor(PixelCentres(width), device: depth.device).view(1, 1, width);
        var ys = tensor(PixelCentres(height), device: depth.device).view(1, height, 1);
        var a = xs - tx;
        var b = ys - ty;
        var baseX = a * E(0, 0) + b * E(1, 0);
        var baseY = a * E(0, 1) + b * E(1, 1);
        var baseZ = a * E(0, 2) + b * E(1, 2);
        var h = depth - 1;
        var s = -baseZ / E(2, 2);
        for (int i = 0; i < iterations; i++)
        {
            var grid = stack(new[] { baseX + s * E(2, 0), baseY + s * E(2, 1) }, -1);
            var sampled = functional.grid_sample(h, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false).squeeze(1);
            s = (sampled - baseZ) / E(2, 2);
        }
        return stack(new[] { baseX + s * E(2, 0), baseY + s * E(2, 1) }, -1);
    }

    /// <summary>The canonical image [B, C, H, W] seen from <paramref name="view"/>: bilinear sampling at <see cref="WarpGrid"/>, border padding.</summary>
    public static Tensor InverseWarp(Tensor canonical, Tensor depth, Tensor view, int iterations)
    {
        using var scope = NewDisposeScope();
        var grid = WarpGrid(depth, view, iterations);
        return functional.grid_sample(canonical, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false)
            .MoveToOuterDisposeScope();
    }
}

using Microsoft.ML.LH2Face.Onnx;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// <see cref="PhotoGeometry"/> written into an ONNX graph (opset 17: GridSample needs 16 or more).
/// Same formulas, same frame; the agreement with TorchSharp is tested to 1e-4.
/// </summary>
internal static class PhotoGeometryOnnx
{
    /// <summary><see cref="PhotoGeometry.Slope"/> along <paramref name="axis"/> of a map with <paramref name="count"/> pixels on that axis.</summary>
    public static string Slope(OnnxGraphBuilder g, string h, int axis, long count)
    {
        long[] axes = [axis];
        var d = g.Sub(g.Slice(h, [1], [count], axes), g.Slice(h, [0], [count - 1], axes));
        var before = g.Concat(axis, g.Slice(d, [0], [1], axes), d);
        var after = g.Concat(axis, d, g.Slice(d, [count - 2], [count - 1], axes));
        return g.Mul(g.Add(before, after), g.ConstantFloat((float)(0.5 / (2.0 / count))));
    }

    /// <summary>
    /// <see cref="PhotoGeometry.Shading"/> of a depth map [B, 1, H, W] under a light [B, 4] (ambient,
    /// diffuse, lx, ly as <see cref="FaceRenderer"/> outputs them). n . l is expanded per component:
    /// (h_x lx + h_y ly + 1) / (|(h_x, h_y, -1)| |(lx, ly, -1)|).
    /// </summary>
    public static string Shading(OnnxGraphBuilder g, string depth, string light, long height, long width)
    {
        var one = g.ConstantFloat(1f);
        var gx = Slope(g, depth, 3, width);
        var gy = Slope(g, depth, 2, height);
        string Column(int k) => g.Unsqueeze(g.Slice(light, [k], [k + 1], [1]), 2, 3);
        var (ambient, diffuse, lx, ly) = (Column(0), Column(1), Column(2), Column(3));
        var normalLength = g.Sqrt(g.Add(g.Add(g.Mul(gx, gx), g.Mul(gy, gy)), one));
        var lightLength = g.Sqrt(g.Add(g.Add(g.Mul(lx, lx), g.Mul(ly, ly)), one));
        var dot = g.Add(g.Add(g.Mul(gx, lx), g.Mul(gy, ly)), one);
        var cosine = g.Div(dot, g.Mul(normalLength, lightLength));
        return g.Add(ambient, g.Mul(diffuse, g.Relu(cosine)));
    }

    /// <summary><see cref="PhotoGeometry.WarpGrid"/>: depth [B, 1, H, W], view [B, 5] -> grid [B, H, W, 2].</summary>
    public static string WarpGrid(OnnxGraphBuilder g, string depth, string view, long height, long width, int iterations)
    {
        string Column(int k) => g.Unsqueeze(g.Slice(view, [k], [k + 1], [1]), 2);
        var (yaw, pitch, roll, tx, ty) = (Column(0), Column(1), Column(2), Column(3), Column(4));
        var (cy, sy) = (g.Cos(yaw), g.Sin(yaw));
        var (cp, sp) = (g.Cos(pitch), g.Sin(pitch));
        var (cr, sr) = (g.Cos(roll), g.Sin(roll));
        // R = Rz(roll) Ry(yaw) Rx(pitch), the entries PhotoGeometry.Rotation computes.
        var r00 = g.Mul(cr, cy);
        var r01 = g.Sub(g.Mul(g.Mul(cr, sy), sp), g.Mul(sr, cp));
        var r02 = g.Add(g.Mul(g.Mul(cr, sy), cp), g.Mul(sr, sp));
        var r10 = g.Mul(sr, cy);
        var r11 = g.Add(g.Mul(g.Mul(sr, sy), sp), g.Mul(cr, cp));
        var r12 = g.Sub(g.Mul(g.Mul(sr, sy), cp), g.Mul(cr, sp));
        var r20 = g.Neg(sy);
        var r21 = g.Mul(cy, sp);
        var r22 = g.Mul(cy, cp);

        var xs = g.Initializer("renderer.pixel_x", PhotoGeometry.PixelCentres(width), 1, 1, width);
        var ys = g.Initializer("renderer.pixel_y", PhotoGeometry.PixelCentres(height), 1, height, 1);
        var a = g.Sub(xs, tx);
        var b = g.Sub(ys, ty);
        var baseX = g.Add(g.Mul(a, r00), g.Mul(b, r10));
        var baseY = g.Add(g.Mul(a, r01), g.Mul(b, r11));
        var baseZ = g.Add(g.Mul(a, r02), g.Mul(b, r12));
        var h = g.Sub(depth, g.ConstantFloat(1f));
        string Grid(string s) => g.Concat(3,
            g.Unsqueeze(g.Add(baseX, g.Mul(s, r20)), 3),
            g.Unsqueeze(g.Add(baseY, g.Mul(s, r21)), 3));
        var s = g.Div(g.Neg(baseZ), r22);
        for (int i = 0; i < iterations; i++)
        {
            var sampled = g.Squeeze(g.GridSample(h, Grid(s), "bilinear", "border", alignCorners: false), 1);
            s = g.Div(g.Sub(sampled, baseZ), r22);
        }
        return Grid(s);
    }

    /// <summary><see cref="PhotoGeometry.InverseWarp"/>.</summary>
    public static string InverseWarp(OnnxGraphBuilder g, string canonical, string depth, string view, long height, long width, int iterations)
        => g.GridSample(canonical, WarpGrid(g, depth, view, height, width, iterations), "bilinear", "border", alignCorners: false);
}

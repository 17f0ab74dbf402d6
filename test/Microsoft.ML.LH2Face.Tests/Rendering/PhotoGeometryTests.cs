using Microsoft.ML.LH2Face.Rendering;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Tests.Rendering;

[TestClass]
[TestCategory("Renderer")]
public sealed class PhotoGeometryTests
{
    private const int Side = 8;

    /// <summary>Pixel-centre coordinate of index j on a side of n pixels (grid_sample, align_corners = false).</summary>
    private static double Centre(int j, int n) => (2.0 * j + 1) / n - 1;

    /// <summary>D = 1 + alpha x + beta y on a side x side grid, [1, 1, side, side].</summary>
    private static Tensor Plane(double alpha, double beta, int side = Side)
    {
        var d = new float[side * side];
        for (int i = 0; i < side; i++)
            for (int j = 0; j < side; j++)
                d[i * side + j] = (float)(1 + alpha * Centre(j, side) + beta * Centre(i, side));
        return tensor(d).view(1, 1, side, side);
    }

    /// <summary>Channel 0 holds each pixel's x, channel 1 its y, channel 2 is 0.5: a warp of it shows where each pixel was read.</summary>
    private static Tensor Ramps(int side)
    {
        var img = new float[3 * side * side];
        for (int i = 0; i < side; i++)
        {
            for (int j = 0; j < side; j++)
            {
                img[i * side + j] = (float)Centre(j, side);
                img[side * side + i * side + j] = (float)Centre(i, side);
                img[2 * side * side + i * side + j] = 0.5f;
            }
        }
        return tensor(img).view(1, 3, side, side);
    }

    private static Tensor View(double yaw, double pitch, double roll, double tx, double ty)
        => tensor(new[] { (float)yaw, (float)pitch, (float)roll, (float)tx, (float)ty }).view(1, 5);

    [TestMethod]
    public void Normals_Plane_AreThePlaneNormalAtEveryPixelIncludingBorders()
    {
        using var scope = NewDisposeScope();
        const double alpha = 0.05, beta = -0.03;
        var n = PhotoGeometry.Normals(Plane(alpha, beta)).data<float>().ToArray();
        double length = Math.Sqrt(alpha * alpha + beta * beta + 1);
        double[] expected = [alpha / length, beta / length, -1 / length];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < Side * Side; p++)
                Assert.AreEqual(expected[c], n[c * Side * Side + p], 1e-6, $"channel {c}, pixel {p}");
    }

    [TestMethod]
    [DataRow(0.05, -0.03, 0.3, -0.4, DisplayName = "lit")]
    [DataRow(3.0, 0.0, -0.9, 0.0, DisplayName = "facing away from the light: ambient only")]
    public void Shading_PlaneLitFromKnownDirection_MatchesHandComputedImage(double alpha, double beta, double lx, double ly)
    {
        using var scope = NewDisposeScope();
        const double ambient = 0.2, diffuse = 0.7;
        var light = tensor(new[] { (float)ambient, (float)diffuse, (float)lx, (float)ly }).view(1, 4);
        var shading = FaceRenderer.Shade(Plane(alpha, beta), light).data<float>().ToArray();

        // n = (alpha, beta, -1) / |.|, l = (lx, ly, -1) / |.|: n . l = (alpha lx + beta ly + 1) / (|n| |l|).
        double cosine = (alpha * lx + beta * ly + 1) / (Math.Sqrt(alpha * alpha + beta * beta + 1) * Math.Sqrt(lx * lx + ly * ly + 1));
        double expected = ambient + diffuse * Math.Max(0, cosine);
        Assert.HasCount(Side * Side, shading);
        foreach (var v in shading)
            Assert.AreEqual(expected, v, 1e-6);
        if (alpha == 3.0)
            Assert.AreEqual(ambient, expected, 1e-12, "the case is meant to be unlit");
    }

    [TestMethod]
    public void Rotation_IsRzRyRxProduct_AndOrthonormal()
    {
        using var scope = NewDisposeScope();
        const double yaw = 0.7, pitch = -0.4, roll = 0.25;
        var r = PhotoGeometry.Rotation(tensor(new[] { (float)yaw, (float)pitch, (float)roll }).view(1, 3))
            .Select(t => (double)t.item<float>()).ToArray();
        double[,] rx = { { 1, 0, 0 }, { 0, Math.Cos(pitch), -Math.Sin(pitch) }, { 0, Math.Sin(pitch), Math.Cos(pitch) } };
        double[,] ry = { { Math.Cos(yaw), 0, Math.Sin(yaw) }, { 0, 1, 0 }, { -Math.Sin(yaw), 0, Math.Cos(yaw) } };
        double[,] rz = { { Math.Cos(roll), -Math.Sin(roll), 0 }, { Math.Sin(roll), Math.Cos(roll), 0 }, { 0, 0, 1 } };
        var expected = Multiply(rz, Multiply(ry, rx));
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Assert.AreEqual(expected[i, j], r[3 * i + j], 1e-6, $"R[{i},{j}]");
                double dot = r[3 * i] * r[3 * j] + r[3 * i + 1] * r[3 * j + 1] + r[3 * i + 2] * r[3 * j + 2];
                Assert.AreEqual(i == j ? 1.0 : 0.0, dot, 1e-6);
            }
        }
    }

    [TestMethod]
    public void InverseWarp_YawOfFlatFace_CompressesByCosine()
    {
        using var scope = NewDisposeScope();
        const int side = 16;
        const double yaw = 0.5;
        var output = PhotoGeometry.InverseWarp(Ramps(side), Plane(0, 0, side), View(yaw, 0, 0, 0, 0), iterations: 3).data<float>().ToArray();
        // A frontal plane turned by the yaw: output x' reads canonical x = x' / cos(yaw) (border-clamped); y is unchanged.
        double edge = Centre(side - 1, side);
        for (int i = 0; i < side; i++)
        {
            for (int j = 0; j < side; j++)
            {
                Assert.AreEqual(Math.Clamp(Centre(j, side) / Math.Cos(yaw), -edge, edge), output[i * side + j], 1e-5, $"x at ({i},{j})");
                Assert.AreEqual(Centre(i, side), output[side * side + i * side + j], 1e-5, $"y at ({i},{j})");
                Assert.AreEqual(0.5, output[2 * side * side + i * side + j], 1e-6);
            }
        }
    }

    [TestMethod]
    public void InverseWarp_YawOfTiltedPlane_ConvergesToTheRayIntersection()
    {
        using var scope = NewDisposeScope();
        const int side = 16;
        const double yaw = 0.5, beta = 0.2;
        // h = beta x. The view ray x' meets it where (x cos + h sin) = x' (after R = Ry): x = x' / (cos(yaw) + beta sin(yaw)).
        var output = PhotoGeometry.InverseWarp(Ramps(side), Plane(beta, 0, side), View(yaw, 0, 0, 0, 0), iterations: 12).data<float>().ToArray();
        double scale = Math.Cos(yaw) + beta * Math.Sin(yaw);
        double edge = Centre(side - 1, side);
        int checkedPixels = 0;
        for (int i = 0; i < side; i++)
        {
            for (int j = 0; j < side; j++)
            {
                double x = Centre(j, side) / scale;
                if (Math.Abs(x) > edge)
                    continue; // rays leaving the map read the clamped border depth
                Assert.AreEqual(x, output[i * side + j], 1e-5, $"x at ({i},{j})");
                Assert.AreEqual(Centre(i, side), output[side * side + i * side + j], 1e-5, $"y at ({i},{j})");
                checkedPixels++;
            }
        }
        Assert.IsGreaterThan(side * side / 2, checkedPixels);

        // Without depth look-ups the warp assumes the plane h = 0 and lands elsewhere.
        var flat = PhotoGeometry.InverseWarp(Ramps(side), Plane(beta, 0, side), View(yaw, 0, 0, 0, 0), iterations: 0).data<float>().ToArray();
        Assert.AreEqual(Centre(3, side) / Math.Cos(yaw), flat[5 * side + 3], 1e-5);
    }

    [TestMethod]
    public void InverseWarp_PitchOfFlatFace_CompressesVertically()
    {
        using var scope = NewDisposeScope();
        const int side = 16;
        const double pitch = -0.4;
        var output = PhotoGeometry.InverseWarp(Ramps(side), Plane(0, 0, side), View(0, pitch, 0, 0, 0), iterations: 2).data<float>().ToArray();
        double edge = Centre(side - 1, side);
        for (int i = 0; i < side; i++)
        {
            for (int j = 0; j < side; j++)
            {
                Assert.AreEqual(Centre(j, side), output[i * side + j], 1e-5);
                Assert.AreEqual(Math.Clamp(Centre(i, side) / Math.Cos(pitch), -edge, edge), output[side * side + i * side + j], 1e-5);
            }
        }
    }

    [TestMethod]
    public void InverseWarp_RollAndShift_ReadsTheInverselyRotatedPoint()
    {
        using var scope = NewDisposeScope();
        const int side = 16;
        const double roll = 0.3, tx = 0.1, ty = -0.05;
        var output = PhotoGeometry.InverseWarp(Ramps(side), Plane(0, 0, side), View(0, 0, roll, tx, ty), iterations: 1).data<float>().ToArray();
        double edge = Centre(side - 1, side);
        for (int i = 0; i < side; i++)
        {
            for (int j = 0; j < side; j++)
            {
                // Canonical point = Rz(roll)^T (x' - tx, y' - ty).
                double a = Centre(j, side) - tx, b = Centre(i, side) - ty;
                double x = Math.Cos(roll) * a + Math.Sin(roll) * b;
                double y = -Math.Sin(roll) * a + Math.Cos(roll) * b;
                Assert.AreEqual(Math.Clamp(x, -edge, edge), output[i * side + j], 1e-5, $"x at ({i},{j})");
                Assert.AreEqual(Math.Clamp(y, -edge, edge), output[side * side + i * side + j], 1e-5, $"y at ({i},{j})");
            }
        }
    }

    [TestMethod]
    public void InverseWarp_IdentityView_ReturnsTheCanonicalImage()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        var image = rand(2, 3, Side, Side);
        var depth = 1 + 0.1 * (rand(2, 1, Side, Side) - 0.5);
        var output = PhotoGeometry.InverseWarp(image, depth, zeros(2, 5), iterations: 3);
        Assert.AreEqual(0.0, (output - image).abs().max().item<float>(), 1e-6);
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        var c = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++)
                    c[i, j] += a[i, k] * b[k, j];
        return c;
    }
}

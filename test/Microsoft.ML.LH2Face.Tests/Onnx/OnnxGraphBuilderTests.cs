using Google.Protobuf;
using Microsoft.ML.LH2Face.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.LH2Face.Tests.Onnx;

[TestClass]
public sealed class OnnxGraphBuilderTests
{
    private const double Tol = 1e-5;

    // ------------------------------------------------------------------ helpers

    internal static Dictionary<string, (float[] Data, int[] Dims)> Run(byte[] model, params (string Name, float[] Data, int[] Dims)[] inputs)
    {
        using var session = new InferenceSession(model);
        var feeds = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Data, i.Dims))).ToList();
        using var results = session.Run(feeds);
        var outputs = new Dictionary<string, (float[], int[])>();
        foreach (var r in results)
        {
            var t = r.AsTensor<float>();
            outputs[r.Name] = (t.ToArray(), t.Dimensions.ToArray());
        }
        return outputs;
    }

    private static float[] Seq(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], Tol, $"index {i}");
    }

    // ------------------------------------------------------------------ ops

    [TestMethod]
    public void Conv_Stride2_Pad1_Group2_MatchesHandConvolution()
    {
        const int n = 1, cIn = 4, h = 5, w = 5, cOut = 4, groups = 2, k = 3, stride = 2, pad = 1;
        int cInG = cIn / groups, cOutG = cOut / groups;
        int hOut = (h + 2 * pad - k) / stride + 1, wOut = (w + 2 * pad - k) / stride + 1;
        float[] x = Seq(n * cIn * h * w, 1), wt = Seq(cOut * cInG * k * k, 2), bias = Seq(cOut, 3);

        var g = new OnnxGraphBuilder();
        string input = g.AddInput("x", n, cIn, h, w);
        string y = g.Conv(input, g.Initializer("w", wt, cOut, cInG, k, k), g.Initializer("b", bias, cOut),
            kernel: [k, k], strides: [stride, stride], pads: [pad, pad], group: groups);
        g.AddOutput("y", n, cOut, hOut, wOut);
        g.Identity(y, "y");

        var expected = new double[n * cOut * hOut * wOut];
        for (int oc = 0; oc < cOut; oc++)
        {
            int grp = oc / cOutG;
            for (int oy = 0; oy < hOut; oy++)
                for (int ox = 0; ox < wOut; ox++)
                {
                    double s = bias[oc];
                    for (int ic = 0; ic < cInG; ic++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                int c = grp * cInG + ic;
                                s += (double)x[(c * h + iy) * w + ix] * wt[((oc * cInG + ic) * k + ky) * k + kx];
                            }
                    expected[(oc * hOut + oy) * wOut + ox] = s;
                }
        }

        var (data, dims) = Run(g.ToBytes(), ("x", x, [n, cIn, h, w]))["y"];
        CollectionAssert.AreEqual(new[] { n, cOut, hOut, wOut }, dims);
        AssertClose(expected, data);
    }

    [TestMethod]
    public void BatchNormalization_MatchesFormula()
    {
        const int n = 2, c = 3, hw = 4;
        float[] x = Seq(n * c * hw, 4), scale = Seq(c, 5), bias = Seq(c, 6), mean = Seq(c, 7);
        float[] var = Seq(c, 8).Select(v => Math.Abs(v) + 0.1f).ToArray();
        const float eps = 1e-3f;

        var g = new OnnxGraphBuilder();
        string y = g.BatchNormalization(g.AddInput("x", n, c, 2, 2), g.Initializer("s", scale, c), g.Initializer("b", bias, c),
            g.Initializer("m", mean, c), g.Initializer("v", var, c), eps);
        g.AddOutput("y", n, c, 2, 2);
        g.Identity(y, "y");

        var expected = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            expected[i] = scale[ch] * (x[i] - (double)mean[ch]) / Math.Sqrt(var[ch] + (double)eps) + bias[ch];
        }
        AssertClose(expected, Run(g.ToBytes(), ("x", x, [n, c, 2, 2]))["y"].Data);
    }

    [TestMethod]
    public void PRelu_PerChannelSlope()
    {
        const int n = 2, c = 3, hw = 4;
        float[] x = Seq(n * c * hw, 9), slope = [0.1f, -0.5f, 2f];

        var g = new OnnxGraphBuilder();
        string y = g.PRelu(g.AddInput("x", n, c, 2, 2), g.Initializer("slope", slope, c, 1, 1));
        g.AddOutput("y", n, c, 2, 2);
        g.Identity(y, "y");

        var expected = x.Select((v, i) => v >= 0 ? (double)v : (double)v * slope[i / hw % c]).ToArray();
        AssertClose(expected, Run(g.ToBytes(), ("x", x, [n, c, 2, 2]))["y"].Data);
    }

    [TestMethod]
    public void Gemm_TransB()
    {
        const int m = 2, k = 3, nOut = 4;
        float[] a = Seq(m * k, 10), b = Seq(nOut * k, 11), c = Seq(nOut, 12);

        var g = new OnnxGraphBuilder();
        string y = g.Gemm(g.AddInput("a", m, k), g.Initializer("b", b, nOut, k), g.Initializer("c", c, nOut), transB: true);
        g.AddOutput("y", m, nOut);
        g.Identity(y, "y");

        var expected = new double[m * nOut];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < nOut; j++)
            {
                double s = c[j];
                for (int t = 0; t < k; t++) s += (double)a[i * k + t] * b[j * k + t];
                expected[i * nOut + j] = s;
            }
        var (data, dims) = Run(g.ToBytes(), ("a", a, [m, k]))["y"];
        CollectionAssert.AreEqual(new[] { m, nOut }, dims);
        AssertClose(expected, data);
    }

    [TestMethod]
    public void ReduceL2_KeepDims_ThenDiv_NormalisesRows()
    {
        const int n = 3, d = 5;
        float[] x = Seq(n * d, 13);

        var g = new OnnxGraphBuilder();
        string input = g.AddInput("x", "N", d);
        string norm = g.ReduceL2(input, [1], keepdims: true);
        g.AddOutput("norm", "N", 1);
        g.AddOutput("y", "N", d);
        g.Identity(norm, "norm");
        g.Identity(g.Div(input, norm), "y");

        var outputs = Run(g.ToBytes(), ("x", x, [n, d]));
        CollectionAssert.AreEqual(new[] { n, 1 }, outputs["norm"].Dims);
        var norms = new double[n];
        var expected = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < d; j++) s += (double)x[i * d + j] * x[i * d + j];
            norms[i] = Math.Sqrt(s);
            for (int j = 0; j < d; j++) expected[i * d + j] = x[i * d + j] / norms[i];
        }
        AssertClose(norms, outputs["norm"].Data);
        AssertClose(expected, outputs["y"].Data);
    }

    [TestMethod]
    [DataRow("zeros")]
    [DataRow("border")]
    public void GridSample_Bilinear_AlignCornersFalse_MatchesHandImplementation(string padding)
    {
        const int h = 3, w = 4, hOut = 2, wOut = 5;
        float[] x = Seq(h * w, 14);
        // Grid points inside, on the edge and outside [-1, 1].
        float[] grid = new float[hOut * wOut * 2];
        var rng = new Random(15);
        for (int i = 0; i < grid.Length; i++) grid[i] = (float)(rng.NextDouble() * 2.6 - 1.3);
        grid[0] = -1f; grid[1] = -1f; grid[2] = 1f; grid[3] = 1f; grid[4] = 0f; grid[5] = 0f;

        var g = new OnnxGraphBuilder();
        string y = g.GridSample(g.AddInput("x", 1, 1, h, w), g.AddInput("grid", 1, hOut, wOut, 2), "bilinear", padding, alignCorners: false);
        g.AddOutput("y", 1, 1, hOut, wOut);
        g.Identity(y, "y");

        double Pixel(int yy, int xx)
        {
            if (padding == "border")
            {
                yy = Math.Clamp(yy, 0, h - 1);
                xx = Math.Clamp(xx, 0, w - 1);
            }
            return yy < 0 || yy >= h || xx < 0 || xx >= w ? 0.0 : x[yy * w + xx];
        }

        var expected = new double[hOut * wOut];
        for (int i = 0; i < hOut * wOut; i++)
        {
            // align_corners = false: -1 and 1 are the outer edges of the corner pixels.
            double px = ((grid[2 * i] + 1.0) * w - 1.0) / 2.0;
            double py = ((grid[2 * i + 1] + 1.0) * h - 1.0) / 2.0;
            if (padding == "border")
            {
                px = Math.Clamp(px, 0, w - 1);
                py = Math.Clamp(py, 0, h - 1);
            }
            int x0 = (int)Math.Floor(px), y0 = (int)Math.Floor(py);
            double fx = px - x0, fy = py - y0;
            expected[i] = Pixel(y0, x0) * (1 - fx) * (1 - fy) + Pixel(y0, x0 + 1) * fx * (1 - fy)
                        + Pixel(y0 + 1, x0) * (1 - fx) * fy + Pixel(y0 + 1, x0 + 1) * fx * fy;
        }

        var (data, dims) = Run(g.ToBytes(), ("x", x, [1, 1, h, w]), ("grid", grid, [1, hOut, wOut, 2]))["y"];
        CollectionAssert.AreEqual(new[] { 1, 1, hOut, wOut }, dims);
        AssertClose(expected, data);
    }

    [TestMethod]
    public void Reshape_Flatten_Transpose()
    {
        float[] x = Seq(2 * 3 * 4, 16);
        var g = new OnnxGraphBuilder();
        string input = g.AddInput("x", 2, 3, 4);
        g.AddOutput("r", 2, 12);
        g.AddOutput("f", 6, 4);
        g.AddOutput("t", 4, 3, 2);
        g.Identity(g.Reshape(input, 0, -1), "r");
        g.Identity(g.Flatten(input, axis: 2), "f");
        g.Identity(g.Transpose(input, 2, 1, 0), "t");

        var outputs = Run(g.ToBytes(), ("x", x, [2, 3, 4]));
        CollectionAssert.AreEqual(new[] { 2, 12 }, outputs["r"].Dims);
        CollectionAssert.AreEqual(new[] { 6, 4 }, outputs["f"].Dims);
        CollectionAssert.AreEqual(new[] { 4, 3, 2 }, outputs["t"].Dims);
        AssertClose(x.Select(v => (double)v).ToArray(), outputs["r"].Data);
        AssertClose(x.Select(v => (double)v).ToArray(), outputs["f"].Data);
        var expectedT = new double[x.Length];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 4; c++)
                    expectedT[(c * 3 + b) * 2 + a] = x[(a * 3 + b) * 4 + c];
        AssertClose(expectedT, outputs["t"].Data);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void SymbolicBatch_RunsWithAnyN(int n)
    {
        float[] w = Seq(3 * 2, 17), x = Seq(n * 3, 18);
        var g = new OnnxGraphBuilder();
        string y = g.MatMul(g.AddInput("x", "N", 3), g.Initializer("w", w, 3, 2));
        g.AddOutput("y", "N", 2);
        g.Identity(y, "y");

        using (var session = new InferenceSession(g.ToBytes()))
            Assert.AreEqual(-1, session.InputMetadata["x"].Dimensions[0], "symbolic dim is reported as -1");

        var expected = new double[n * 2];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 2; j++)
                for (int t = 0; t < 3; t++)
                    expected[i * 2 + j] += (double)x[i * 3 + t] * w[t * 2 + j];
        var (data, dims) = Run(g.ToBytes(), ("x", x, [n, 3]))["y"];
        CollectionAssert.AreEqual(new[] { n, 2 }, dims);
        AssertClose(expected, data);
    }

    [TestMethod]
    public void OtherOps_RunAndMatch()
    {
        float[] x = [-2f, -0.5f, 0.25f, 1f, 3f, 4f]; // [1, 1, 2, 3]
        var g = new OnnxGraphBuilder();
        string input = g.AddInput("x", 1, 1, 2, 3);
        var outs = new Dictionary<string, (string Value, Func<double[]> Expected)>
        {
            ["clip"] = (g.Clip(input, -1f, 2f), () => x.Select(v => Math.Clamp((double)v, -1, 2)).ToArray()),
            ["clipmax"] = (g.Clip(input, null, 2f), () => x.Select(v => Math.Min((double)v, 2)).ToArray()),
            ["relu"] = (g.Relu(input), () => x.Select(v => Math.Max((double)v, 0)).ToArray()),
            ["sigmoid"] = (g.Sigmoid(input), () => x.Select(v => 1 / (1 + Math.Exp(-v))).ToArray()),
            ["tanh"] = (g.Tanh(input), () => x.Select(v => Math.Tanh(v)).ToArray()),
            ["sincos"] = (g.Add(g.Sin(input), g.Cos(input)), () => x.Select(v => Math.Sin(v) + Math.Cos(v)).ToArray()),
            ["exp"] = (g.Exp(input), () => x.Select(v => Math.Exp(v)).ToArray()),
            ["sqrtabs"] = (g.Sqrt(g.Mul(input, input)), () => x.Select(v => Math.Abs((double)v)).ToArray()),
            ["pow"] = (g.Pow(input, g.ConstantFloat(2f)), () => x.Select(v => (double)v * v).ToArray()),
            ["subdiv"] = (g.Div(g.Sub(input, g.ConstantFloat(1f)), g.ConstantFloat(4f)), () => x.Select(v => (v - 1.0) / 4).ToArray()),
            ["maxmin"] = (g.Add(g.Max(input, g.ConstantFloat(0.5f)), g.Min(input, g.ConstantFloat(0.5f))), () => x.Select(v => v + 0.5).ToArray()),
            ["reducemean"] = (g.ReduceMean(input, [2, 3], keepdims: false), () => [x.Average(v => (double)v)]),
            ["reducesum"] = (g.ReduceSum(input, [3], keepdims: true), () => [x[0] + x[1] + (double)x[2], x[3] + x[4] + (double)x[5]]),
            ["gap"] = (g.GlobalAveragePool(input), () => [x.Average(v => (double)v)]),
            ["avgpool"] = (g.AveragePool(input, [2, 2], [1, 1]), () => [(x[0] + x[1] + x[3] + (double)x[4]) / 4, (x[1] + x[2] + x[4] + (double)x[5]) / 4]),
            ["maxpool"] = (g.MaxPool(input, [2, 2], [1, 1], [0, 0]), () => [3, 4]),
            ["concat"] = (g.Concat(3, input, input), () => [x[0], x[1], x[2], x[0], x[1], x[2], x[3], x[4], x[5], x[3], x[4], x[5]]),
            ["slice"] = (g.Slice(input, [1], [3], [3]), () => [x[1], x[2], x[4], x[5]]),
            ["slicestep"] = (g.Slice(input, [0], [3], [3], [2]), () => [x[0], x[2], x[3], x[5]]),
            ["squeeze"] = (g.Unsqueeze(g.Squeeze(input, 0, 1), 0), () => x.Select(v => (double)v).ToArray()),
            ["pad"] = (g.Pad(input, [0, 0, 0, 1, 0, 0, 0, 0], "constant", 7f), () => [7, x[0], x[1], x[2], 7, x[3], x[4], x[5]]),
        };
        foreach (var (name, (value, _)) in outs)
        {
            g.AddOutputWithoutShape(name);
            g.Identity(value, name);
        }

        var results = Run(g.ToBytes(), ("x", x, [1, 1, 2, 3]));
        foreach (var (name, (_, expected)) in outs)
        {
            var e = expected();
            var a = results[name].Data;
            Assert.HasCount(e.Length, a, name);
            for (int i = 0; i < e.Length; i++) Assert.AreEqual(e[i], a[i], Tol, $"{name}[{i}]");
        }
    }

    [TestMethod]
    public void NamesAreUniqueAndDuplicateDeclaredNamesThrow()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", 1);
        Assert.AreNotEqual(g.Relu(x), g.Relu(x));
        Assert.AreNotEqual(g.Initializer("w", [1f], 1), g.Initializer("w", [2f], 1));
        Assert.AreEqual(g.ConstantFloat(3f), g.ConstantFloat(3f));
        Assert.ThrowsExactly<ArgumentException>(() => g.AddInput("x", 1));
        Assert.ThrowsExactly<ArgumentException>(() => g.Initializer("bad", [1f, 2f], 3));
        Assert.AreEqual(OnnxGraphBuilder.OpsetVersion, g.Model.OpsetImport.Single().Version);
        Assert.AreEqual(8L, g.Model.IrVersion);
        Assert.AreEqual("Microsoft.ML.LH2Face", g.Model.ProducerName);
    }

    // ------------------------------------------------------------------ metadata and save

    private static OnnxGraphBuilder TinyModel(float bias)
    {
        var g = new OnnxGraphBuilder();
        g.AddOutput("y", "N", 2);
        g.Identity(g.Add(g.AddInput("x", "N", 2), g.ConstantFloat(bias)), "y");
        return g;
    }

    [TestMethod]
    public void Metadata_RoundTrips()
    {
        var g = TinyModel(1f);
        g.SetMetadata(LH2FaceModelMetadata.FormatVersion, "1");
        g.SetMetadata(LH2FaceModelMetadata.EmbeddingSize, "999");
        g.SetMetadata(LH2FaceModelMetadata.EmbeddingSize, "512");
        g.SetMetadata(LH2FaceModelMetadata.Normalisation, "(x - 127.5) / 128, RGB, NCHW");

        var bytes = g.ToBytes();
        var meta = OnnxMetadata.Read(bytes);
        Assert.HasCount(4, meta);
        // ToBytes adds the SHA-256 of the serialised graph (what LH2FaceModelFile.Verify checks on load).
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(bytes).Graph.ToByteArray();
        Assert.AreEqual(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(graph)), meta[LH2FaceModelMetadata.GraphSha256]);
        Assert.AreEqual(64, meta[LH2FaceModelMetadata.GraphSha256].Length);
        Assert.AreEqual("1", meta[LH2FaceModelMetadata.FormatVersion]);
        Assert.AreEqual("512", meta[LH2FaceModelMetadata.EmbeddingSize]);
        Assert.AreEqual("(x - 127.5) / 128, RGB, NCHW", meta[LH2FaceModelMetadata.Normalisation]);

        // ONNX Runtime sees the same metadata.
        using var session = new InferenceSession(g.ToBytes());
        Assert.AreEqual("512", session.ModelMetadata.CustomMetadataMap[LH2FaceModelMetadata.EmbeddingSize]);
        Assert.AreEqual("Microsoft.ML.LH2Face", session.ModelMetadata.ProducerName);
    }

    [TestMethod]
    public void Save_OverwritesAndLeavesNoTempFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lh2face-save-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "sub", "model.onnx");
            var first = TinyModel(1f);
            first.Save(path);
            CollectionAssert.AreEqual(first.ToBytes(), File.ReadAllBytes(path));

            var second = TinyModel(2f);
            second.SetMetadata(LH2FaceModelMetadata.Head, "lh2face");
            second.Save(path);
            CollectionAssert.AreEqual(second.ToBytes(), File.ReadAllBytes(path));
            CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(Path.GetDirectoryName(path)!));

            var y = Run(File.ReadAllBytes(path), ("x", [0f, 1f], [1, 2]))["y"].Data;
            CollectionAssert.AreEqual(new[] { 2f, 3f }, y);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.LH2Face.Onnx;

/// <summary>
/// Assembles an ONNX inference graph (opset 17, default domain, IR version 8) with OnnxSharp.
/// Every op method appends one node and returns the name of its output value; intermediate
/// names are generated from the op type and a counter, so they never collide. Use
/// <see cref="Identity"/> to give a value the name of a declared graph output.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Opset of the default ("ai.onnx") domain the graph is written against.</summary>
    public const long OpsetVersion = 17;

    /// <summary>IR version written into the model (8 is what opset 17 pairs with).</summary>
    public const long IrVersion = 8;

    /// <summary>Producer name written into the model.</summary>
    public const string ProducerName = "Microsoft.ML.LH2Face";

    private readonly ModelProto _model;
    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _floatConstants = new();
    private int _counter;

    public OnnxGraphBuilder(string graphName = "lh2face")
    {
        _graph = new GraphProto { Name = graphName };
        _model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0.0.0.0",
            Graph = _graph,
        };
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
    }

    /// <summary>The model being built (live; mutate only if the builder has no op for it).</summary>
    public ModelProto Model => _model;

    // ---------------------------------------------------------------- graph interface

    /// <summary>Declares a float graph input. A dim is an <see cref="int"/>/<see cref="long"/>
    /// (fixed), a <see cref="string"/> (symbolic, e.g. "N") or <c>null</c> (unknown).</summary>
    public string AddInput(string name, params object?[] dims)
        => AddInput(name, TensorProto.Types.DataType.Float, dims);

    /// <summary>Declares a graph input of the given element type. (A literal 0 as the second
    /// argument binds here, as an element type, not as a dim.)</summary>
    public string AddInput(string name, TensorProto.Types.DataType elemType, params object?[] dims)
    {
        Claim(name);
        _graph.Input.Add(ValueInfo(name, elemType, dims));
        return name;
    }

    /// <summary>Declares a float graph output; some node must produce <paramref name="name"/>
    /// (see <see cref="Identity"/>).</summary>
    public string AddOutput(string name, params object?[] dims)
        => AddOutput(name, TensorProto.Types.DataType.Float, dims);

    /// <summary>Declares a graph output of the given element type.</summary>
    public string AddOutput(string name, TensorProto.Types.DataType elemType, params object?[] dims)
    {
        _graph.Output.Add(ValueInfo(name, elemType, dims));
        return name;
    }

    /// <summary>Declares a graph output with no shape information (not even its rank).
    /// Note that <c>AddOutput(name)</c> with no dims declares a rank-0 (scalar) output.</summary>
    public string AddOutputWithoutShape(string name, TensorProto.Types.DataType elemType = TensorProto.Types.DataType.Float)
    {
        _graph.Output.Add(new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elemType } },
        });
        return name;
    }

    /// <summary>Adds a float initializer (weights); returns its (possibly uniquified) name.</summary>
    public string Initializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        CheckCount(data.Length, dims);
        var t = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>Adds an int64 initializer (shapes, axes, pads); returns its name.</summary>
    public string InitializerInt64(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        CheckCount(data.Length, dims);
        var t = new TensorProto { Name = UniqueName(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>A rank-0 float initializer with the given value (shared between uses).</summary>
    public string ConstantFloat(float value)
    {
        int bits = BitConverter.SingleToInt32Bits(value);
        if (!_floatConstants.TryGetValue(bits, out var name))
        {
            name = Initializer("const_" + value.ToString("R", CultureInfo.InvariantCulture), [value]);
            _floatConstants[bits] = name;
        }
        return name;
    }

    /// <summary>A 1-D int64 initializer holding <paramref name="values"/>.</summary>
    public string ConstantInt64s(params long[] values) => InitializerInt64("ints", values, values.Length);

    /// <summary>Writes <c>metadata_props[key] = value</c>, replacing any earlier value.</summary>
    public void SetMetadata(string key, string value)
    {
        foreach (var entry in _model.MetadataProps)
        {
            if (entry.Key == key)
            {
                entry.Value = value;
                return;
            }
        }
        _model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    /// <summary>The serialised model, with the graph's SHA-256 in <see cref="LH2FaceModelMetadata.GraphSha256"/>.</summary>
    public byte[] ToBytes()
    {
        SetMetadata(LH2FaceModelMetadata.GraphSha256, OnnxMetadata.HashGraph(_model));
        return _model.ToByteArray();
    }

    /// <summary>Writes the model to a temp file beside <paramref name="path"/>, then moves it
    /// over <paramref name="path"/>, so readers never see a half-written file.</summary>
    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, ToBytes());
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    // ---------------------------------------------------------------- ops

    /// <summary>Conv. <paramref name="pads"/> is ONNX order (all begins, then all ends) or,
    /// if it has one entry per spatial axis, symmetric padding.</summary>
    public string Conv(string x, string w, string? b, int[] kernel, int[]? strides = null, int[]? pads = null,
        int group = 1, int[]? dilations = null)
    {
        var attrs = new List<AttributeProto> { Ints("kernel_shape", kernel), Int("group", group) };
        if (strides != null) attrs.Add(Ints("strides", strides));
        if (pads != null) attrs.Add(Ints("pads", FullPads(pads, kernel.Length)));
        if (dilations != null) attrs.Add(Ints("dilations", dilations));
        return Op("Conv", b == null ? [x, w] : [x, w, b], [.. attrs]);
    }

    /// <summary>BatchNormalization in inference mode.</summary>
    public string BatchNormalization(string x, string scale, string bias, string mean, string var, float epsilon = 1e-5f)
        => Op("BatchNormalization", [x, scale, bias, mean, var], Float("epsilon", epsilon));

    /// <summary>PRelu; <paramref name="slope"/> must broadcast to x (per channel of NCHW: [C,1,1]).</summary>
    public string PRelu(string x, string slope) => Op("PRelu", [x, slope]);

    /// <summary>Relu.</summary>
    public string Relu(string x) => Op("Relu", [x]);
    /// <summary>Sigmoid.</summary>
    public string Sigmoid(string x) => Op("Sigmoid", [x]);
    /// <summary>Tanh.</summary>
    public string Tanh(string x) => Op("Tanh", [x]);
    /// <summary>Sqrt.</summary>
    public string Sqrt(string x) => Op("Sqrt", [x]);
    /// <summary>Cos.</summary>
    public string Cos(string x) => Op("Cos", [x]);
    /// <summary>Sin.</summary>
    public string Sin(string x) => Op("Sin", [x]);
    /// <summary>Exp.</summary>
    public string Exp(string x) => Op("Exp", [x]);

    /// <summary>Add (broadcasting).</summary>
    public string Add(string a, string b) => Op("Add", [a, b]);
    /// <summary>Sub (broadcasting).</summary>
    public string Sub(string a, string b) => Op("Sub", [a, b]);
    /// <summary>Mul (broadcasting).</summary>
    public string Mul(string a, string b) => Op("Mul", [a, b]);
    /// <summary>Div (broadcasting).</summary>
    public string Div(string a, string b) => Op("Div", [a, b]);
    /// <summary>Pow (broadcasting).</summary>
    public string Pow(string x, string y) => Op("Pow", [x, y]);
    /// <summary>MatMul.</summary>
    public string MatMul(string a, string b) => Op("MatMul", [a, b]);
    /// <summary>Elementwise max of the inputs.</summary>
    public string Max(params string[] inputs) => Op("Max", inputs);
    /// <summary>Elementwise min of the inputs.</summary>
    public string Min(params string[] inputs) => Op("Min", inputs);

    /// <summary>Gemm: alpha * A' * B' + beta * C.</summary>
    public string Gemm(string a, string b, string? c, bool transB = false, bool transA = false, float alpha = 1f, float beta = 1f)
        => Op("Gemm", c == null ? [a, b] : [a, b, c],
            Int("transA", transA ? 1 : 0), Int("transB", transB ? 1 : 0), Float("alpha", alpha), Float("beta", beta));

    /// <summary>Flatten to 2-D at <paramref name="axis"/>.</summary>
    public string Flatten(string x, int axis = 1) => Op("Flatten", [x], Int("axis", axis));

    /// <summary>Reshape to <paramref name="shape"/> (0 copies the input dim, -1 infers).</summary>
    public string Reshape(string x, params long[] shape) => Op("Reshape", [x, ConstantInt64s(shape)]);

    /// <summary>Transpose.</summary>
    public string Transpose(string x, params int[] perm) => Op("Transpose", [x], Ints("perm", perm));

    /// <summary>ReduceL2 (axes is an attribute at opset 17).</summary>
    public string ReduceL2(string x, int[] axes, bool keepdims = true)
        => Op("ReduceL2", [x], Ints("axes", axes), Int("keepdims", keepdims ? 1 : 0));

    /// <summary>ReduceMean (axes is an attribute at opset 17).</summary>
    public string ReduceMean(string x, int[] axes, bool keepdims = true)
        => Op("ReduceMean", [x], Ints("axes", axes), Int("keepdims", keepdims ? 1 : 0));

    /// <summary>ReduceSum (axes is an input since opset 13).</summary>
    public string ReduceSum(string x, long[] axes, bool keepdims = true)
        => Op("ReduceSum", [x, ConstantInt64s(axes)], Int("keepdims", keepdims ? 1 : 0));

    /// <summary>Clip; bounds are inputs since opset 11, <c>null</c> means unbounded.</summary>
    public string Clip(string x, float? min, float? max)
    {
        var inputs = new List<string> { x };
        if (min.HasValue || max.HasValue) inputs.Add(min.HasValue ? ConstantFloat(min.Value) : "");
        if (max.HasValue) inputs.Add(ConstantFloat(max.Value));
        return Op("Clip", [.. inputs]);
    }

    /// <summary>Concat along <paramref name="axis"/>.</summary>
    public string Concat(int axis, params string[] inputs) => Op("Concat", inputs, Int("axis", axis));

    /// <summary>Slice (starts/ends/axes/steps are inputs since opset 10).</summary>
    public string Slice(string x, long[] starts, long[] ends, long[]? axes = null, long[]? steps = null)
    {
        var inputs = new List<string> { x, ConstantInt64s(starts), ConstantInt64s(ends) };
        if (axes != null || steps != null) inputs.Add(axes != null ? ConstantInt64s(axes) : "");
        if (steps != null) inputs.Add(ConstantInt64s(steps));
        return Op("Slice", [.. inputs]);
    }

    /// <summary>Squeeze (axes is an input since opset 13).</summary>
    public string Squeeze(string x, params long[] axes)
        => Op("Squeeze", axes.Length == 0 ? [x] : [x, ConstantInt64s(axes)]);

    /// <summary>Unsqueeze (axes is an input since opset 13).</summary>
    public string Unsqueeze(string x, params long[] axes) => Op("Unsqueeze", [x, ConstantInt64s(axes)]);

    /// <summary>GlobalAveragePool.</summary>
    public string GlobalAveragePool(string x) => Op("GlobalAveragePool", [x]);

    /// <summary>AveragePool (count_include_pad off by default, as in ONNX).</summary>
    public string AveragePool(string x, int[] kernel, int[]? strides = null, int[]? pads = null, bool countIncludePad = false)
    {
        var attrs = new List<AttributeProto> { Ints("kernel_shape", kernel), Int("count_include_pad", countIncludePad ? 1 : 0) };
        if (strides != null) attrs.Add(Ints("strides", strides));
        if (pads != null) attrs.Add(Ints("pads", FullPads(pads, kernel.Length)));
        return Op("AveragePool", [x], [.. attrs]);
    }

    /// <summary>MaxPool (single output).</summary>
    public string MaxPool(string x, int[] kernel, int[]? strides = null, int[]? pads = null)
    {
        var attrs = new List<AttributeProto> { Ints("kernel_shape", kernel) };
        if (strides != null) attrs.Add(Ints("strides", strides));
        if (pads != null) attrs.Add(Ints("pads", FullPads(pads, kernel.Length)));
        return Op("MaxPool", [x], [.. attrs]);
    }

    /// <summary>Identity whose output has the given name (used to name graph outputs).</summary>
    public string Identity(string x, string outputName)
    {
        Claim(outputName);
        _graph.Node.Add(MakeNode("Identity", [x], outputName, []));
        return outputName;
    }

    /// <summary>GridSample (opset 16+): mode "bilinear"/"nearest"/"bicubic", padding
    /// "zeros"/"border"/"reflection".</summary>
    public string GridSample(string x, string grid, string mode = "bilinear", string paddingMode = "zeros", bool alignCorners = false)
        => Op("GridSample", [x, grid], Str("mode", mode), Str("padding_mode", paddingMode), Int("align_corners", alignCorners ? 1 : 0));

    /// <summary>Pad; <paramref name="pads"/> is ONNX order (all begins, then all ends) over all axes.</summary>
    public string Pad(string x, long[] pads, string mode = "constant", float constantValue = 0f)
    {
        var inputs = new List<string> { x, ConstantInt64s(pads) };
        if (mode == "constant" && constantValue != 0f) inputs.Add(ConstantFloat(constantValue));
        return Op("Pad", [.. inputs], Str("mode", mode));
    }

    // ---------------------------------------------------------------- renderer ops

    /// <summary>Resize by integer <paramref name="scales"/> (one per axis) with nearest-neighbour
    /// sampling: output index i reads input index floor(i / scale), as PyTorch's "nearest" mode.</summary>
    public string ResizeNearest(string x, params float[] scales)
    {
        string scaleName = Initializer("scales", scales, scales.Length);
        return Op("Resize", [x, "", scaleName],
            Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor"));
    }

    /// <summary>Neg.</summary>
    public string Neg(string x) => Op("Neg", [x]);

    // ---------------------------------------------------------------- helpers

    private string Op(string opType, string[] inputs, params AttributeProto[] attributes)
    {
        string output = NewName(opType.ToLowerInvariant());
        _graph.Node.Add(MakeNode(opType, inputs, output, attributes));
        return output;
    }

    private NodeProto MakeNode(string opType, string[] inputs, string output, AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_graph.Node.Count}", Domain = "" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, IEnumerable<int> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        foreach (int v in values) a.Ints.Add(v);
        return a;
    }

    private static AttributeProto Float(string name, float value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Str(string name, string value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static int[] FullPads(int[] pads, int spatialRank)
    {
        if (pads.Length == 2 * spatialRank) return pads;
        if (pads.Length == spatialRank) return [.. pads, .. pads];
        throw new ArgumentException($"pads must have {spatialRank} or {2 * spatialRank} entries, not {pads.Length}.", nameof(pads));
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType elemType, object?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                null => new TensorShapeProto.Types.Dimension(),
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => throw new ArgumentException($"A dim must be an int, long, string or null, not {d.GetType()}.", nameof(dims)),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elemType, Shape = shape } },
        };
    }

    private static void CheckCount(int length, long[] dims)
    {
        long count = 1;
        foreach (long d in dims) count *= d;
        if (count != length)
            throw new ArgumentException($"Data has {length} values but dims [{string.Join(",", dims)}] need {count}.");
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian.");
    }

    private void Claim(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A value name must not be empty.", nameof(name));
        if (!_names.Add(name)) throw new ArgumentException($"The value name '{name}' is already used.", nameof(name));
    }

    /// <summary>prefix_counter, skipping names already used.</summary>
    private string NewName(string prefix)
    {
        string name;
        do name = $"{prefix}_{_counter++}";
        while (!_names.Add(name));
        return name;
    }

    /// <summary>The name itself if free, else prefix_counter.</summary>
    private string UniqueName(string prefix)
    {
        string name = prefix;
        while (!_names.Add(name))
            name = $"{prefix}_{_counter++}";
        return name;
    }
}

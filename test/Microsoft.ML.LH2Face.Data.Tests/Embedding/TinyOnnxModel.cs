using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.LH2Face.Data.Tests.Embedding;

/// <summary>
/// A tiny ONNX graph written with OnnxSharp: input "input" float[N, 3, s, s]; outputs "pooled" =
/// Flatten(GlobalAveragePool(input)) [N, 3] (channel means) and "flat" = Flatten(input) [N, 3*s*s].
/// </summary>
internal static class TinyOnnxModel
{
    public static void Write(string path, int size)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(Value("input", "N", 3, size, size));
        graph.Node.Add(Node("GlobalAveragePool", "input", "gap"));
        graph.Node.Add(Node("Flatten", "gap", "pooled", Axis()));
        graph.Node.Add(Node("Flatten", "input", "flat", Axis()));
        graph.Output.Add(Value("pooled", "N", 3));
        graph.Output.Add(Value("flat", "N", 3 * size * size));
        var model = new ModelProto { IrVersion = 8, ProducerName = "lh2face-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    private static AttributeProto Axis() => new() { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 };

    private static NodeProto Node(string op, string input, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.Add(input);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static ValueInfoProto Value(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

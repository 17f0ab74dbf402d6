using System.Runtime.InteropServices;
using Microsoft.ML.LH2Face.Native;
using Microsoft.ML.LH2Face.Training;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Onnx;

/// <summary>
/// Reads a saved scoring graph's weights back into a TorchSharp network, so that a loaded model can export its standalone
/// graph and render. The graph's initializers carry the network's weights under their module paths ("backbone.conv1.weight",
/// "renderer...."); the rebuilt network is exported again and must reproduce the saved graph byte for byte (its SHA-256).
/// </summary>
internal static class OnnxModelRebuild
{
    /// <summary>The standalone graph of the model whose scoring graph is <paramref name="scoring"/>.</summary>
    /// <exception cref="InvalidDataException">The weights do not rebuild the saved graph exactly.</exception>
    public static byte[] StandaloneFromScoring(ModelProto scoring, LH2FaceModelDescription description, string source, Action<string> log)
    {
        var native = TorchSharpNative.EnsureLoadable(log);
        try
        {
            _ = CPU.type; // the first torch call: TorchSharp loads its native library here
        }
        catch (Exception e) when (native.Action == TorchSharpNativeAction.Failed && e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            throw new InvalidOperationException($"{native.Message} TorchSharp then failed to load: {e.Message}", e);
        }
        // The head is not part of the exported graph: two classes keep its proxies small.
        using var network = new FaceNetwork(description.Network(), classCount: 2);
        LoadWeights(network, scoring, source);
        network.eval();
        var rebuilt = ModelProto.Parser.ParseFrom(OnnxModelExporter.Export(network, description, OnnxModelExporter.ScoringNames));
        if (!string.Equals(OnnxMetadata.HashGraph(rebuilt), OnnxMetadata.HashGraph(scoring), StringComparison.Ordinal))
            throw new InvalidDataException(
                $"Model '{source}': its weights do not rebuild the saved graph exactly{Differences(scoring, rebuilt)}, so it may have been written by another version of this library. Load it with mlContext.Model.Load, or export it again from the trained model.");
        return OnnxModelExporter.Export(network, description, OnnxModelExporter.StandaloneNames);
    }

    /// <summary>" (weights that differ: a, b, c)" for the error message; empty when only the nodes differ.</summary>
    private static string Differences(ModelProto saved, ModelProto rebuilt)
    {
        var mine = rebuilt.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var names = saved.Graph.Initializer.Where(t => !mine.TryGetValue(t.Name, out var other) || !other.Equals(t)).Select(t => t.Name).Take(3).ToList();
        return names.Count == 0 ? "" : $" (weights that differ: {string.Join(", ", names)})";
    }

    /// <summary>Copies every float weight and buffer of the backbone and renderer from the initializer of the same name.</summary>
    private static void LoadWeights(FaceNetwork network, ModelProto model, string source)
    {
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var backbone = (Backbones.IResNet)network.Backbone;
        const string BackbonePrefix = "backbone.";
        foreach (var (path, tensor) in network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(network.named_buffers()))
        {
            var name = path.StartsWith(BackbonePrefix, StringComparison.Ordinal) ? BackbonePrefix + backbone.OnnxName(path[BackbonePrefix.Length..]) : path;
            // The head's proxies are not exported; renderer weights used only in training are not either, and do not change the graph.
            if (tensor.dtype != ScalarType.Float32 || !initializers.TryGetValue(name, out var initializer))
                continue;
            if (initializer.DataType != (int)TensorProto.Types.DataType.Float || initializer.RawData.Length != 4 * tensor.numel())
                throw new InvalidDataException($"Model '{source}': the weights '{name}' in the graph have {initializer.RawData.Length / 4} values; the network takes {tensor.numel()}.");
            var values = MemoryMarshal.Cast<byte, float>(initializer.RawData.Span).ToArray();
            tensor.copy_(TorchSharp.torch.tensor(values).reshape(tensor.shape));
        }
    }
}

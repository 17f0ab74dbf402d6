using Microsoft.ML.LH2Face.Backbones;
using Microsoft.ML.LH2Face.Rendering;
using Microsoft.ML.LH2Face.Training;

namespace Microsoft.ML.LH2Face.Onnx;

/// <summary>Value names of an exported graph's input and outputs.</summary>
/// <param name="Pixels">Input name.</param>
/// <param name="Embedding">Embedding output name.</param>
/// <param name="Quality">Quality output name.</param>
/// <param name="OneRowPerRun">
/// True for the graph inside ML.NET: ML.NET feeds one row at a time and types a [1, d] output as a
/// Vector&lt;Single, 1, d&gt;, so that graph takes [1, 3, S, S] and returns [d] and [1].
/// </param>
/// <param name="Reconstruction">Renderer output I_hat (only with a renderer).</param>
/// <param name="CanonicalFace">Renderer output J (only with a renderer).</param>
/// <param name="CanonicalDepth">Renderer output D, written to the standalone graph only (null: not written).</param>
internal sealed record OnnxNames(string Pixels, string Embedding, string Quality, bool OneRowPerRun,
    string Reconstruction = "reconstruction", string CanonicalFace = "canonical_face", string? CanonicalDepth = null);

/// <summary>
/// Writes the inference graph of a trained network: pixel normalisation (x - 127.5) / 127.5, backbone,
/// L2-normalised embedding and the feature norm (quality), at opset 17 with metadata_props.
/// </summary>
internal static class OnnxModelExporter
{
    /// <summary>Names of the standalone model (<see cref="LH2FaceTransformer.ExportOnnx"/>): input "pixels" [N,3,S,S]; outputs "embedding" [N,d], "quality" [N].</summary>
    public static readonly OnnxNames StandaloneNames = new("pixels", "embedding", "quality", OneRowPerRun: false, CanonicalDepth: "canonical_depth");

    /// <summary>Names used inside the ML.NET chain, where ONNX value names are column names: unlikely to collide with user columns.</summary>
    public static readonly OnnxNames ScoringNames = new("__LH2Face.Pixels", "__LH2Face.Embedding", "__LH2Face.Quality", OneRowPerRun: true,
        "__LH2Face.Reconstruction", "__LH2Face.CanonicalFace");

    public static byte[] Export(FaceNetwork network, LH2FaceModelDescription description, OnnxNames names)
    {
        if (network.Backbone is not IOnnxExportable backbone)
            throw new InvalidOperationException($"Backbone {description.Backbone} cannot be exported to ONNX.");
        int s = description.InputSize;
        int d = description.EmbeddingSize;
        var g = new OnnxGraphBuilder();
        if (names.OneRowPerRun)
            g.AddInput(names.Pixels, 1, 3, s, s);
        else
            g.AddInput(names.Pixels, "N", 3, s, s);
        var x = g.Div(g.Sub(names.Pixels, g.ConstantFloat(FaceNetwork.PixelMean)), g.ConstantFloat(FaceNetwork.PixelScale));
        var z = backbone.ExportOnnx(g, x, "backbone");
        var norm = g.ReduceL2(z, new[] { 1 }, keepdims: true);
        var embedding = g.Div(z, g.Max(norm, g.ConstantFloat((float)FaceNetwork.NormEpsilon)));
        if (names.OneRowPerRun)
        {
            g.Identity(g.Reshape(embedding, d), names.Embedding);
            g.Identity(g.Reshape(norm, 1), names.Quality);
            g.AddOutput(names.Embedding, d);
            g.AddOutput(names.Quality, 1);
        }
        else
        {
            g.Identity(embedding, names.Embedding);
            g.Identity(g.Reshape(norm, -1), names.Quality);
            g.AddOutput(names.Embedding, "N", d);
            g.AddOutput(names.Quality, "N");
        }
        if (network.Renderer is { } renderer)
            RendererExport.AddOutputs(g, renderer, embedding, z, names);
        foreach (var (key, value) in description.ToMetadata())
            g.SetMetadata(key, value);
        return g.ToBytes();
    }
}

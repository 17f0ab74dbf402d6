namespace Microsoft.ML.LH2Face;

/// <summary>
/// The keys this library writes into the <c>metadata_props</c> of every ONNX graph it exports (the standalone file of
/// <see cref="LH2FaceTransformer.ExportOnnx"/> and the graph inside a saved model.zip). Read them with any ONNX reader
/// (e.g. ONNX Runtime's <c>InferenceSession.ModelMetadata.CustomMetadataMap</c>) to know what a model is.
/// </summary>
public static class LH2FaceModelMetadata
{
    /// <summary>Version of the exported graph's contract (inputs, outputs, metadata).</summary>
    public const string FormatVersion = "lh2face.format_version";

    /// <summary>Length of the embedding output.</summary>
    public const string EmbeddingSize = "lh2face.embedding_size";

    /// <summary>Input image size, e.g. "112x112".</summary>
    public const string InputSize = "lh2face.input_size";

    /// <summary>How pixels must be normalised before they are fed to the graph.</summary>
    public const string Normalisation = "lh2face.normalisation";

    /// <summary>The training head (loss) the embedding was trained with.</summary>
    public const string Head = "lh2face.head";

    /// <summary>The effective loss configuration as JSON: head description, weight of each term, sample rate, proxy settings.</summary>
    public const string Loss = "lh2face.loss";

    /// <summary>Side of the renderer outputs, e.g. "64x64" (only in models trained with the renderer).</summary>
    public const string RendererResolution = "lh2face.renderer_resolution";

    /// <summary>A short summary of the training run.</summary>
    public const string TrainingSummary = "lh2face.training_summary";

    /// <summary>
    /// What <see cref="LH2FaceTransformer.Load"/> needs to rebuild the transformer, as JSON: the column names, the input
    /// kind (MLImage or planar pixels), the network settings that shape the exported graph, the renderer's settings and
    /// the whole training summary. Written since format version 1 of this key's JSON ("version": 1).
    /// </summary>
    public const string Transformer = "lh2face.transformer";

    /// <summary>
    /// Lower-case hex SHA-256 of the serialised graph (ModelProto.graph: nodes, initializers = the weights, inputs,
    /// outputs), written at export so that a model whose weights or graph changed after saving is refused on load
    /// (<see cref="LH2FaceModelFile.Verify"/>).
    /// </summary>
    public const string GraphSha256 = "lh2face.graph_sha256";
}

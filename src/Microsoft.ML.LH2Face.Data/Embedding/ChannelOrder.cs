namespace Microsoft.ML.LH2Face.Data.Embedding;

/// <summary>Order of the colour planes an ONNX model expects.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (insightface arcface_torch models).</summary>
    Rgb,

    /// <summary>Blue, green, red (models trained on OpenCV-decoded images without conversion).</summary>
    Bgr,
}

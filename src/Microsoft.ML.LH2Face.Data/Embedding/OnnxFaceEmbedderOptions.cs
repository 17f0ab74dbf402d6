namespace Microsoft.ML.LH2Face.Data.Embedding;

/// <summary>Options of <see cref="OnnxFaceEmbedder"/>. Defaults fit insightface arcface_torch exports.</summary>
public sealed class OnnxFaceEmbedderOptions
{
    /// <summary>Side of the square input crop (the model input is [N, 3, InputSize, InputSize]).</summary>
    public int InputSize { get; init; } = 112;

    /// <summary>Subtracted from every 0..255 pixel value: 127.5 gives (x - 127.5) / 127.5 = (x / 255 - 0.5) / 0.5 (arcface_torch).</summary>
    public float Mean { get; init; } = 127.5f;

    /// <summary>Divides the centred pixel value (127.5 in arcface_torch; 1 leaves values in pixel units).</summary>
    public float Std { get; init; } = 127.5f;

    /// <summary>Colour plane order of the model input.</summary>
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>Images per inference call (ignored when the model has a fixed batch dimension).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Input name; the model's first input when null.</summary>
    public string? InputName { get; init; }

    /// <summary>Output name of the embedding; the model's first output when null.</summary>
    public string? OutputName { get; init; }

    /// <summary>Threads ONNX Runtime may use within one operator; 0 lets it choose.</summary>
    public int IntraOpThreads { get; init; }
}

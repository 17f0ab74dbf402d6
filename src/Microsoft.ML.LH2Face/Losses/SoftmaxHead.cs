using Microsoft.ML.LH2Face.Settings;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Losses;

/// <summary>
/// Plain softmax: logits z W^T with the unnormalised feature z = kappa * x and unnormalised proxies, no
/// bias and no margin (the "Softmax" baseline of the CosFace, ArcFace and MagFace papers).
/// </summary>
internal sealed class SoftmaxHead : MarginHead
{
    /// <summary>The description in logs, checkpoint fingerprints and the ONNX metadata.</summary>
    public static string Describe(HeadSettings o) => "Softmax(unnormalised, no bias)";

    public SoftmaxHead(int classCount, int embeddingSize) : base(nameof(SoftmaxHead), classCount, embeddingSize)
    {
        RegisterComponents();
    }

    public override bool UsesCosines => false;

    public override Tensor Logits(Tensor? cosines, Tensor embeddings, Tensor norms, Tensor labels, Tensor proxyRows)
        => functional.linear(embeddings * norms, proxyRows);

    public override Tensor? LogitScale(Tensor norms) => null;
}

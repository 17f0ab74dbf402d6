using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>
/// The renderer's part of a training step: renders the batch and returns each loss term with its
/// weight, so the session adds weight * value to the loss and reports the value.
/// </summary>
internal static class RendererTraining
{
    /// <summary>Name of L_reco in the progress terms.</summary>
    public const string ReconstructionTerm = "reconstruction";

    /// <summary>Name of L_FR^canon in the progress terms.</summary>
    public const string CanonicalRecognitionTerm = "canonical_recognition";

    /// <summary>Name of L_view in the progress terms.</summary>
    public const string ViewConsistencyTerm = "view_consistency";

    /// <summary>
    /// The renderer's loss terms for a batch: pixels [B, 3, S, S] (0..255), their features z [B, d] and
    /// labels [B]. Terms of weight 0 are skipped (no canonical pass through the backbone when
    /// L_FR^canon and L_view are both off). The canonical faces go through the backbone with batch
    /// statistics but leave its running averages as they were, and through the head without updating
    /// its norm statistics: the statistics a model is scored with are those of real images.
    /// </summary>
    public static IReadOnlyList<(string Name, Tensor Value, float Weight)> Losses(
        FaceNetwork network, Tensor pixels, Tensor features, Tensor labels, LH2FaceTrainer.Options options)
    {
        var renderer = network.Renderer ?? throw new InvalidOperationException("The network has no renderer: set Options.UseRenderer.");
        var (embedding, _) = FaceNetwork.Split(features);
        var render = renderer.Render(embedding, features, withFlip: options.FlipReconstructionWeight > 0);
        var terms = new List<(string, Tensor, float)>();
        if (options.ReconstructionWeight > 0)
        {
            var target = RendererLosses.Target(pixels, renderer.Resolution);
            var reconstruction = RendererLosses.Reconstruction(
                render.Reconstruction, target, render.FlippedReconstruction, options.FlipReconstructionWeight, options.ReconstructionGradientWeight);
            terms.Add((ReconstructionTerm, reconstruction, options.ReconstructionWeight));
        }
        if (options.CanonicalRecognitionWeight > 0 || options.ViewConsistencyWeight > 0)
        {
            // By default J is a fixed input here: these terms teach the backbone, not the renderer (see Options.CanonicalLossesTrainRenderer).
            var canonical = options.CanonicalLossesTrainRenderer ? render.Canonical : render.Canonical.detach();
            var canonicalFeatures = network.FeaturesKeepingStatistics(RendererLosses.CanonicalPixels(canonical, options.InputSize));
            if (options.CanonicalRecognitionWeight > 0)
            {
                var (canonicalEmbedding, canonicalNorm) = FaceNetwork.Split(canonicalFeatures);
                var logits = WithoutStatisticUpdates(network.Head, head => head.forward(canonicalEmbedding, canonicalNorm, labels));
                terms.Add((CanonicalRecognitionTerm, functional.cross_entropy(logits, labels), options.CanonicalRecognitionWeight));
            }
            if (options.ViewConsistencyWeight > 0)
                terms.Add((ViewConsistencyTerm, RendererLosses.ViewConsistency(features, canonicalFeatures), options.ViewConsistencyWeight));
        }
        return terms;
    }

    /// <summary>Runs <paramref name="call"/> with the head in eval mode, where heads keep their running statistics (mu_kappa, the AdaFace norm statistics) unchanged.</summary>
    internal static Tensor WithoutStatisticUpdates(MarginHead head, Func<MarginHead, Tensor> call)
    {
        bool wasTraining = head.training;
        head.eval();
        try
        {
            return call(head);
        }
        finally
        {
            if (wasTraining)
                head.train();
        }
    }

    /// <summary>The renderer part of a checkpoint fingerprint: empty when the renderer is off, so renderer-free checkpoints keep theirs.</summary>
    public static string Fingerprint(LH2FaceTrainer.Options options)
        => options.UseRenderer
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $";renderer={options.RendererResolution},fov={options.RendererFieldOfView},prior={options.RendererDepthPrior},lr={options.RendererLearningRate},warp={options.RendererWarpIterations},canonical-trains-renderer={options.CanonicalLossesTrainRenderer}")
            : "";

    /// <summary>The log line that states the renderer settings when training starts.</summary>
    public static string Describe(LH2FaceTrainer.Options options)
        => $"Renderer on: {options.RendererResolution}px, field of view {options.RendererFieldOfView} degrees (relief {FaceRenderer.DepthAmplitude * FaceRenderer.ReliefScale(options.RendererFieldOfView):F2} half-widths), depth prior {options.RendererDepthPrior}, " +
           $"warp iterations {options.RendererWarpIterations}, Adam lr {options.RendererLearningRate}, " +
           $"lambda_reco {options.ReconstructionWeight} (flip {options.FlipReconstructionWeight}, gradient {options.ReconstructionGradientWeight}), " +
           $"lambda_canon {options.CanonicalRecognitionWeight}, lambda_view {options.ViewConsistencyWeight} " +
           (options.CanonicalLossesTrainRenderer ? "(both also train the renderer)." : "(both train the backbone only).");
}

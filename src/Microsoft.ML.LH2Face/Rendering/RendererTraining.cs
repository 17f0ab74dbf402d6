using Microsoft.ML.LH2Face.Losses;
using Microsoft.ML.LH2Face.Settings;
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
        FaceNetwork network, Tensor pixels, Tensor features, Tensor labels, RendererTrainingSettings settings, int inputSize)
    {
        var renderer = network.Renderer ?? throw new InvalidOperationException("The network has no renderer: set Options.UseRenderer.");
        var (embedding, _) = FaceNetwork.Split(features);
        var render = renderer.Render(embedding, features, withFlip: settings.FlipReconstructionWeight > 0);
        var terms = new List<(string, Tensor, float)>();
        if (settings.ReconstructionWeight > 0)
        {
            var target = RendererLosses.Target(pixels, renderer.Resolution);
            var reconstruction = RendererLosses.Reconstruction(
                render.Reconstruction, target, render.FlippedReconstruction, settings.FlipReconstructionWeight, settings.ReconstructionGradientWeight);
            terms.Add((ReconstructionTerm, reconstruction, settings.ReconstructionWeight));
        }
        if (settings.CanonicalRecognitionWeight > 0 || settings.ViewConsistencyWeight > 0)
        {
            // By default J is a fixed input here: these terms teach the backbone, not the renderer (see Options.CanonicalLossesTrainRenderer).
            var canonical = settings.CanonicalLossesTrainRenderer ? render.Canonical : render.Canonical.detach();
            var canonicalFeatures = network.FeaturesKeepingStatistics(RendererLosses.CanonicalPixels(canonical, inputSize));
            if (settings.CanonicalRecognitionWeight > 0)
            {
                var (canonicalEmbedding, canonicalNorm) = FaceNetwork.Split(canonicalFeatures);
                var logits = WithoutStatisticUpdates(network.Head, head => head.forward(canonicalEmbedding, canonicalNorm, labels));
                terms.Add((CanonicalRecognitionTerm, functional.cross_entropy(logits, labels), settings.CanonicalRecognitionWeight));
            }
            if (settings.ViewConsistencyWeight > 0)
                terms.Add((ViewConsistencyTerm, RendererLosses.ViewConsistency(features, canonicalFeatures), settings.ViewConsistencyWeight));
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
    public static string Fingerprint(RendererTrainingSettings? settings)
        => settings is not null
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $";renderer={settings.Resolution},fov={settings.FieldOfView},prior={settings.DepthPrior},lr={settings.LearningRate},warp={settings.WarpIterations},canonical-trains-renderer={settings.CanonicalLossesTrainRenderer}")
            : "";

    /// <summary>The log line that states the renderer settings when training starts.</summary>
    public static string Describe(RendererTrainingSettings settings)
        => $"Renderer on: {settings.Resolution}px, field of view {settings.FieldOfView} degrees (relief {FaceRenderer.DepthAmplitude * FaceRenderer.ReliefScale(settings.FieldOfView):F2} half-widths), depth prior {settings.DepthPrior}, " +
           $"warp iterations {settings.WarpIterations}, Adam lr {settings.LearningRate}, " +
           $"lambda_reco {settings.ReconstructionWeight} (flip {settings.FlipReconstructionWeight}, gradient {settings.ReconstructionGradientWeight}), " +
           $"lambda_canon {settings.CanonicalRecognitionWeight}, lambda_view {settings.ViewConsistencyWeight} " +
           (settings.CanonicalLossesTrainRenderer ? "(both also train the renderer)." : "(both train the backbone only).");
}

using Microsoft.ML.LH2Face.Training;
using static TorchSharp.torch;

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
    /// The renderer's loss terms for a batch: pixels [B, 3, S, S] (0..255), their features z [B, d],
    /// and the recognition loss of the head as a function of (unit embeddings, norms), which is
    /// applied to the canonical faces fed back through the backbone. Terms of weight 0 are skipped
    /// (no canonical pass through the backbone when L_FR^canon and L_view are both off).
    /// </summary>
    public static IReadOnlyList<(string Name, Tensor Value, float Weight)> Losses(
        FaceNetwork network, Tensor pixels, Tensor features, Func<Tensor, Tensor, Tensor> recognitionLoss, LH2FaceTrainer.Options options)
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
            var canonicalFeatures = network.Features(RendererLosses.CanonicalPixels(render.Canonical, options.InputSize));
            if (options.CanonicalRecognitionWeight > 0)
            {
                var (canonicalEmbedding, canonicalNorm) = FaceNetwork.Split(canonicalFeatures);
                terms.Add((CanonicalRecognitionTerm, recognitionLoss(canonicalEmbedding, canonicalNorm), options.CanonicalRecognitionWeight));
            }
            if (options.ViewConsistencyWeight > 0)
                terms.Add((ViewConsistencyTerm, RendererLosses.ViewConsistency(features, canonicalFeatures), options.ViewConsistencyWeight));
        }
        return terms;
    }

    /// <summary>The renderer part of a checkpoint fingerprint: empty when the renderer is off, so renderer-free checkpoints keep theirs.</summary>
    public static string Fingerprint(LH2FaceTrainer.Options options)
        => options.UseRenderer ? $";renderer={options.RendererResolution}" : "";

    /// <summary>The log line that states the renderer settings when training starts.</summary>
    public static string Describe(LH2FaceTrainer.Options options)
        => $"Renderer on: {options.RendererResolution}px, warp iterations {options.RendererWarpIterations}, " +
           $"lambda_reco {options.ReconstructionWeight} (flip {options.FlipReconstructionWeight}, gradient {options.ReconstructionGradientWeight}), " +
           $"lambda_canon {options.CanonicalRecognitionWeight}, lambda_view {options.ViewConsistencyWeight}.";
}

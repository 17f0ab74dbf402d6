namespace Microsoft.ML.LH2Face;

public sealed partial class LH2FaceTrainer
{
    public sealed partial class Options
    {
        // ---- Renderer (METHOD.md section 4) ----

        /// <summary>
        /// Train the photo-geometric renderer branch: decoders from the embedding to canonical depth and
        /// albedo, heads for light and view, and its three loss terms. Off by default (it adds training
        /// time); when on, the model also outputs <see cref="ReconstructionColumnName"/> and <see cref="CanonicalFaceColumnName"/>.
        /// </summary>
        public bool UseRenderer;

        /// <summary>Side of the rendered images in pixels, a multiple of 16 no larger than <see cref="InputSize"/> (64 for CPUs; up to 112).</summary>
        public int RendererResolution = 64;

        /// <summary>lambda_reco: weight of the reconstruction loss L1(I_hat, I) (METHOD.md placeholder: 1).</summary>
        public float ReconstructionWeight = 1f;

        /// <summary>Weight of the flipped reconstruction inside L_reco (Unsup3d's symmetry term; METHOD.md: 0.5). 0 turns the flip off.</summary>
        public float FlipReconstructionWeight = 0.5f;

        /// <summary>Weight of the image-gradient L1 inside L_reco (a structural term; no pretrained perceptual net is available). 0 = off.</summary>
        public float ReconstructionGradientWeight;

        /// <summary>lambda_canon: weight of the recognition loss on the canonical face J fed back through the backbone (METHOD.md placeholder: 0.5). 0 = off.</summary>
        public float CanonicalRecognitionWeight = 0.5f;

        /// <summary>lambda_view: weight of L_view = 1 - cos(f(I), f(J)) (METHOD.md placeholder: 0.1). 0 = off.</summary>
        public float ViewConsistencyWeight = 0.1f;

        /// <summary>
        /// Let L_FR^canon and L_view train the renderer as well as the backbone. Off by default: with the
        /// gradient, the decoders learn to paint whatever textures the backbone finds easiest to recognise
        /// instead of a face (measured on SynthFace: grey canonical faces with coloured stripes), so the
        /// canonical face J enters those two terms as a fixed input and they train the backbone and head.
        /// </summary>
        public bool CanonicalLossesTrainRenderer;

        /// <summary>Fixed-point depth look-ups of the depth-based inverse warp (0 warps a flat face).</summary>
        public int RendererWarpIterations = 3;

        /// <summary>
        /// Field of view of the renderer's camera in degrees (Unsup3d's 10 by default). The canonical depth D
        /// lies in [0.9, 1.1] (METHOD.md) in units of the camera distance, so this sets how deep the face is
        /// against its width: a relief of (D - 1) / tan(fov / 2) image half-widths, +-1.14 at 10 degrees.
        /// Projection stays orthographic; a smaller angle gives a deeper face.
        /// </summary>
        public float RendererFieldOfView = 10f;

        /// <summary>
        /// Strength of a fixed convex bump added to the raw depth before its tanh: -s * (1 - x^2 - y^2) over the
        /// image, so the face starts nearer the camera at the centre than at the corners. It breaks the
        /// hollow-face ambiguity (a concave face under the mirrored light shades the same), which without it
        /// gave inverted depth maps on SynthFace. 0 = no prior.
        /// </summary>
        public float RendererDepthPrior = 0.5f;

        /// <summary>
        /// Peak learning rate of the renderer's own parameters (decoders, light and view heads), which
        /// train with Adam as in Unsup3d and follow the same warm-up and cosine schedule as
        /// <see cref="LearningRate"/>. The backbone's share of the renderer losses goes through the main optimiser.
        /// </summary>
        public float RendererLearningRate = 3e-3f;

        /// <summary>Output column (with <see cref="UseRenderer"/>): the input-view reconstruction I_hat, planar RGB 0..255, 3*RendererResolution^2 values.</summary>
        public string ReconstructionColumnName = "Reconstruction";

        /// <summary>Output column (with <see cref="UseRenderer"/>): the canonical face J, planar RGB 0..255, 3*RendererResolution^2 values.</summary>
        public string CanonicalFaceColumnName = "CanonicalFace";
    }
}

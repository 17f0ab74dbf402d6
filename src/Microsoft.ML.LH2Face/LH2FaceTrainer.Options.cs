namespace Microsoft.ML.LH2Face;

public sealed partial class LH2FaceTrainer
{
    /// <summary>
    /// Every setting of the LH2Face trainer, with its default. Defaults follow insightface arcface_torch
    /// and the LH2Face specification (METHOD.md) unless said otherwise.
    /// </summary>
    public sealed partial class Options
    {
        // ---- Columns ----

        /// <summary>Key-typed identity label column (add MapValueToKey before LH2Face).</summary>
        public string LabelColumnName = "Label";

        /// <summary>Image column: an MLImage of any size (resized to <see cref="InputSize"/>), or a planar RGB Single vector of 3*InputSize*InputSize values in 0..255.</summary>
        public string ImageColumnName = "Image";

        /// <summary>Output column: the L2-normalised embedding (Single vector of <see cref="EmbeddingSize"/>).</summary>
        public string EmbeddingColumnName = "Embedding";

        /// <summary>Output column: the feature norm kappa = ||z|| (higher = more certain).</summary>
        public string QualityColumnName = "Quality";

        // ---- Model ----

        /// <summary>Backbone network. IResNet50 is the arcface_torch default; Compact trains on CPUs.</summary>
        public LH2FaceBackbone Backbone = LH2FaceBackbone.IResNet50;

        /// <summary>Side of the square network input in pixels (112 = insightface crops; smaller trains faster).</summary>
        public int InputSize = 112;

        /// <summary>Embedding dimension d (arcface_torch: 512).</summary>
        public int EmbeddingSize = 512;

        /// <summary>Dropout before the embedding FC layer (arcface_torch: 0).</summary>
        public float DropoutRate;

        /// <summary>The batch norm that ends the IResNet backbones (arcface_torch: scale frozen at 1).</summary>
        public LH2FaceEmbeddingNorm EmbeddingNorm = LH2FaceEmbeddingNorm.FrozenScale;

        // ---- Head and loss ----

        /// <summary>Classification head. <see cref="ApplyPreset"/> sets the head with the loss terms that belong to it.</summary>
        public LH2FaceHead Head = LH2FaceHead.LH2Face;

        /// <summary>Logit scale s of ArcFace and CosFace (both papers: 64); the mean (Relative) or fixed (Fixed) scale of the LH2Face head under <see cref="KappaScale"/>.</summary>
        public float Scale = 64f;

        /// <summary>Additive angular margin m of ArcFace (paper: 0.5).</summary>
        public float ArcFaceMargin = 0.5f;

        /// <summary>Additive cosine margin m of CosFace (paper: 0.35).</summary>
        public float CosFaceMargin = 0.35f;

        /// <summary>
        /// How the LH2Face head turns kappa into the logit scale. Default <see cref="LH2FaceKappaScale.SqrtDimension"/> (kappa at its
        /// expected value sqrt(d)), chosen on a validation split (README "Loss study"); METHOD.md section 2 reads it literally,
        /// <see cref="LH2FaceKappaScale.Raw"/> (preset <see cref="LH2FaceLossPreset.LH2FaceLiteral"/>).
        /// </summary>
        public LH2FaceKappaScale KappaScale = LH2FaceKappaScale.SqrtDimension;

        /// <summary>
        /// LH2Face margin function, the Uncertainty-Aware Margin (METHOD.md section 2). Default Angular: a constant angular margin
        /// of MarginCoefficient radians, chosen on a validation split at 112 px / 512-d, where the quality-aware angular margin
        /// (<see cref="LH2FaceMarginFunction.QualityAngular"/>, the default before) cost low-quality recognition (README "Loss study").
        /// METHOD.md's literal reading is <see cref="LH2FaceMarginFunction.Literal"/> (preset <see cref="LH2FaceLossPreset.LH2FaceLiteral"/>).
        /// </summary>
        public LH2FaceMarginFunction MarginFunction = LH2FaceMarginFunction.Angular;

        /// <summary>
        /// LH2Face margin coefficient m: the angular margin in radians at kappa = mu_kappa (QualityAngular, Angular; default 0.5, ArcFace's),
        /// M = m * mu_kappa (Literal, paper summaries: 0.35), the cosine margin of QualityScaled, AdaFace's m in the AdaFace margin function.
        /// </summary>
        public float MarginCoefficient = 0.5f;

        /// <summary>Lower clamp of kappa used as the logit scale; also MagFace's l_a (MagFace: 10).</summary>
        public float KappaMin = 10f;

        /// <summary>Upper clamp of kappa used as the logit scale; also MagFace's u_a (MagFace: 110).</summary>
        public float KappaMax = 110f;

        /// <summary>EMA momentum of the running norm statistics: mu_kappa of LH2Face and AdaFace's t_alpha (METHOD.md, AdaFace: 0.01).</summary>
        public float NormMomentum = 0.01f;

        /// <summary>Initial mu_kappa (METHOD.md: 20).</summary>
        public float InitialMeanNorm = 20f;

        /// <summary>
        /// Hardness-aware negatives in the LH2Face head: a negative class closer than the target with its margin gets the
        /// logit kappa' cos (t + cos), t the running mean target cosine (CurricularFace, Huang et al., CVPR 2020).
        /// </summary>
        public bool HardNegativeEmphasis;

        /// <summary>
        /// Weight of the kappa-ranking term (0 = off): a degraded copy of part of each batch must end with a smaller
        /// feature norm than its source (see <see cref="KappaRankingShare"/>, <see cref="KappaRankingMargin"/>), so that
        /// kappa, the Quality output, ranks image quality. Self-supervised: no quality label is read. 1.5 since the fourth
        /// round of the loss study (README): against 3 it gained hard-HQ and LQ recognition at 64 px (validation and test,
        /// three seeds each) and kept Quality's AUC above 0.8; a larger weight ranks quality more sharply and costs
        /// recognition.
        /// </summary>
        public float KappaRankingWeight = 1.5f;

        /// <summary>Share of each batch that gets a degraded copy for the kappa-ranking term (at least 2 images).</summary>
        public float KappaRankingShare = 0.25f;

        /// <summary>
        /// Margin of the kappa-ranking hinge in log-norm units: the copy's norm should be at most exp(-margin) = 0.47 of its
        /// source's. 0.75 since the fifth round of the loss study (README; 0.5 before): on the validation split at 64 px (three
        /// seeds) it raised Quality's AUC from 0.81 to 0.85 and hard-HQ recognition with it.
        /// </summary>
        public float KappaRankingMargin = 0.75f;

        /// <summary>
        /// Whether the kappa ranking's gradient reaches the convolutional trunk (the default) or stops there: with false the
        /// degraded copies' trunk features are detached and the sources' norms are constants in the ranking, so the ranking
        /// trains only the embedding layer (fully connected layer and embedding batch norm) to read quality from features
        /// that the recognition losses alone shape.
        /// </summary>
        public bool KappaRankingTrainsBackbone = true;

        /// <summary>
        /// Weight of the degraded-consistency term (0 = off): each degraded copy of the kappa ranking (see
        /// <see cref="KappaRankingShare"/>) is pulled toward its source's direction, 1 - cos(z_copy, z_source), the source
        /// held constant. Self-supervised like the ranking; the copies ride in the same forward pass.
        /// </summary>
        public float DegradedConsistencyWeight;

        /// <summary>How the LH2Face head keeps the feature norm bounded.</summary>
        public LH2FaceNormControl NormControl = LH2FaceNormControl.Regulariser;

        /// <summary>lambda_g of the norm regulariser g of LH2Face (Regulariser norm control) and of MagFace (MagFace: 35).</summary>
        public float NormRegularisationWeight = 35f;

        /// <summary>Weight of the vMF negative log-likelihood under the VmfNll norm control (METHOD.md is silent; 1).</summary>
        public float VmfNllWeight = 1f;

        /// <summary>n of the vMF normaliser log C_n (0 = <see cref="EmbeddingSize"/>; METHOD.md notes the paper may use e.g. 256 with d = 512).</summary>
        public int VmfDimension;

        /// <summary>AdaFace margin m (AdaFace: 0.4).</summary>
        public float AdaFaceMargin = 0.4f;

        /// <summary>AdaFace h, how far the batch-normalised norm moves the margins; also used by the AdaFace margin function of LH2Face (AdaFace: 0.333).</summary>
        public float AdaFaceH = 0.333f;

        /// <summary>MagFace l_m, the margin at norm KappaMin (MagFace: 0.45).</summary>
        public float MagFaceMarginMin = 0.45f;

        /// <summary>MagFace u_m, the margin at norm KappaMax (MagFace: 0.8).</summary>
        public float MagFaceMarginMax = 0.8f;

        // ---- Proxy losses and class-centre sampling (METHOD.md section 3) ----

        /// <summary>Weight lambda_pps of the proxy-to-positive-sample loss L_pps (METHOD.md: 1; default 0, off: on SynthFace every proxy term lowered hard-HQ TAR, see README "Loss study").</summary>
        public float ProxyPositiveSampleWeight;

        /// <summary>Weight lambda_pns of the proxy-to-negative-sample loss L_pns (METHOD.md: 1; default 0, off, as <see cref="ProxyPositiveSampleWeight"/>).</summary>
        public float ProxyNegativeSampleWeight;

        /// <summary>Weight lambda_pp of the proxy-to-proxy loss L_pp (METHOD.md: 1; default 0, off, as <see cref="ProxyPositiveSampleWeight"/>).</summary>
        public float ProxyProxyWeight;

        /// <summary>Scale alpha of the Proxy-Anchor losses (Proxy-Anchor: 32).</summary>
        public float ProxyAlpha = 32f;

        /// <summary>Margin delta of the Proxy-Anchor losses (Proxy-Anchor: 0.1).</summary>
        public float ProxyDelta = 0.1f;

        /// <summary>Learning rate of the proxies W relative to the rest of the network (Proxy-Anchor: 100; insightface: 1).</summary>
        public float ProxyLearningRateMultiplier = 1f;

        /// <summary>
        /// Partial-FC class-centre sampling: the fraction of identities whose proxies take part in a step (every class of the
        /// batch, plus random others up to SampleRate x identities). 1 uses all; 0.1 is insightface's choice for millions of identities.
        /// </summary>
        public float SampleRate = 1f;

        /// <summary>
        /// Which proxies L_pns and L_pp see (METHOD.md: "restrict to the batch's proxies plus a sampled set of negatives"); the
        /// head always sees every class <see cref="SampleRate"/> keeps. 0 (the default) is automatic: every proxy up to
        /// <see cref="ProxySampleMaxClasses"/> classes (exact), above that the batch's proxies plus a uniform sample of the others,
        /// <see cref="ProxySampleSize"/> in all, so their cost stops growing with the class count. A rate in (0, 1] keeps that
        /// fraction of the identities (every class of the batch always included); 1 uses all, and L_pp then costs as much as
        /// the head itself (a second [batch proxies x C] product). Sampled proxies outside the batch are weighted by the
        /// inverse of their inclusion probability, so the sampled losses estimate those over every proxy.
        /// </summary>
        public float ProxySampleRate;

        /// <summary>
        /// Under the automatic <see cref="ProxySampleRate"/> (0), L_pns and L_pp are exact up to this many classes (4096 covers
        /// SynthFace-sized runs of a few hundred to a few thousand identities).
        /// </summary>
        public int ProxySampleMaxClasses = 4096;

        /// <summary>
        /// Under the automatic <see cref="ProxySampleRate"/> (0), the proxies L_pns and L_pp see above
        /// <see cref="ProxySampleMaxClasses"/> classes: the batch's plus sampled others, this many in all. 1024 keeps the LH2Face
        /// loss within 1.3x of ArcFace's head at 10k and 100k identities (README, loss micro-benchmark).
        /// </summary>
        public int ProxySampleSize = 1024;

        // ---- Optimisation ----

        /// <summary>Number of passes over the training data.</summary>
        public int Epochs = 20;

        /// <summary>Images per step (arcface_torch: 128 per GPU).</summary>
        public int BatchSize = 128;

        /// <summary>Optimiser.</summary>
        public LH2FaceOptimizer Optimizer = LH2FaceOptimizer.Sgd;

        /// <summary>Peak learning rate (arcface_torch SGD: 0.1; use about 1e-3 for AdamW).</summary>
        public float LearningRate = 0.1f;

        /// <summary>SGD momentum (arcface_torch: 0.9).</summary>
        public float Momentum = 0.9f;

        /// <summary>Weight decay (arcface_torch SGD: 5e-4; AdamW: 0.1).</summary>
        public float WeightDecay = 5e-4f;

        /// <summary>Linear warm-up length in epochs (arcface_torch: 0). Fractions allowed.</summary>
        public float WarmupEpochs;

        /// <summary>Learning-rate schedule after the warm-up.</summary>
        public LH2FaceSchedule Schedule = LH2FaceSchedule.Cosine;

        /// <summary>Epochs at which <see cref="LH2FaceSchedule.Step"/> multiplies the rate by <see cref="StepGamma"/>.</summary>
        public int[] StepMilestones = { 10, 16 };

        /// <summary>Factor of each step-schedule decay.</summary>
        public float StepGamma = 0.1f;

        /// <summary>Clip the global gradient norm to this value (arcface_torch: 5); 0 turns clipping off.</summary>
        public float GradientClipNorm = 5f;

        /// <summary>Flip each training image horizontally with probability 0.5 (arcface_torch does).</summary>
        public bool RandomHorizontalFlip = true;

        /// <summary>Seed of weights, data order, augmentation and dropout: the same seed on CPU gives the same model.</summary>
        public int Seed = 42;

        /// <summary>Device to train on.</summary>
        public LH2FaceDevice Device = LH2FaceDevice.Auto;

        /// <summary>
        /// Number format of the backbone's training passes: <see cref="LH2FacePrecision.Float32"/> (default) or
        /// <see cref="LH2FacePrecision.BFloat16"/> (float32 master weights; the saved model is float32 either way).
        /// </summary>
        public LH2FacePrecision Precision = LH2FacePrecision.Float32;

        /// <summary>
        /// Activation recomputation (gradient checkpointing) for the backbone's convolutional trunk: the training pass keeps
        /// only the input of each residual block (and of the stem and the last batch norm) and runs each block again during
        /// the backward pass. The same gradients and model, less activation memory, one more forward pass of the trunk per
        /// step. Default false: the trainer then recomputes the stem and the first block's entry alone (the cheapest layers to
        /// recompute, whose outputs are three of the largest maps), with the same gradients. See README, "Performance and memory".
        /// </summary>
        public bool RecomputeActivations;

        /// <summary>Stop after this many optimiser steps in total (0 = run every epoch). The schedule still spans all epochs.</summary>
        public int MaxSteps;

        /// <summary>
        /// Largest training set, in bytes of cached pixels (one byte per value for 8-bit images, four otherwise), held in
        /// memory. Past it, <see cref="DataLoading"/> = Auto streams data that can be read by position and fails otherwise.
        /// </summary>
        public long MaxCacheBytes = 4L << 30;

        /// <summary>Whether Fit caches the training images in memory or streams them from their source: see <see cref="LH2FaceDataLoading"/>.</summary>
        public LH2FaceDataLoading DataLoading = LH2FaceDataLoading.Auto;

        /// <summary>
        /// Threads that decode and resize streamed images in the background (0 = half the processors, at least one). The
        /// order of images, and so every result, does not depend on it.
        /// </summary>
        public int LoaderThreads;

        /// <summary>
        /// The C heap policy Fit applies on Linux with glibc: <see cref="LH2FaceNativeHeap.KeepFreed"/> (default; several times
        /// faster training, higher peak memory, process-wide) or <see cref="LH2FaceNativeHeap.Unchanged"/>. See README, "Performance".
        /// </summary>
        public LH2FaceNativeHeap NativeHeap = LH2FaceNativeHeap.KeepFreed;

        // ---- Validation, checkpoints, reporting ----

        /// <summary>Optional validation data (same columns); verification accuracy is measured on it after every epoch and the best epoch is kept.</summary>
        public IDataView? ValidationSet;

        /// <summary>Stop when validation accuracy has not improved for this many epochs (0 = never stop early).</summary>
        public int EarlyStoppingPatience;

        /// <summary>Directory for checkpoints (weights, optimiser, schedule position, data order, head statistics).</summary>
        public string? CheckpointDirectory;

        /// <summary>Write a checkpoint every this many steps (0 = only at the end). Needs <see cref="CheckpointDirectory"/>.</summary>
        public int CheckpointEveryNSteps;

        /// <summary>A checkpoint directory to continue from (a killed or finished run with the same data and options).</summary>
        public string? ResumeFrom;

        /// <summary>Receives epoch, step, loss terms and speed after every step.</summary>
        public IProgress<LH2FaceProgress>? Progress;

        /// <summary>Cancels training between steps (Fit then throws <see cref="OperationCanceledException"/>).</summary>
        public CancellationToken CancellationToken;

        /// <summary>New options with <paramref name="preset"/> applied to the defaults.</summary>
        public static Options FromPreset(LH2FaceLossPreset preset) => new Options().ApplyPreset(preset);

        /// <summary>
        /// Sets the loss options of a named method and leaves every other option alone. The defaults are LH2Face's; the LH2Face
        /// preset sets them again (so it undoes another preset), LH2FaceLiteral sets METHOD.md's literal reading, and the
        /// baselines pick their head and turn the proxy losses and the kappa ranking off; their own hyperparameters (Scale,
        /// ArcFaceMargin, CosFaceMargin, AdaFace*, MagFace*, KappaMin/Max as l_a/u_a, NormRegularisationWeight as lambda_g)
        /// already default to the published values.
        /// </summary>
        /// <returns>These options, for chaining.</returns>
        public Options ApplyPreset(LH2FaceLossPreset preset)
        {
            switch (preset)
            {
                case LH2FaceLossPreset.LH2Face:
                    var defaults = new Options();
                    Head = LH2FaceHead.LH2Face;
                    KappaScale = defaults.KappaScale;
                    MarginFunction = defaults.MarginFunction;
                    MarginCoefficient = defaults.MarginCoefficient;
                    KappaRankingWeight = defaults.KappaRankingWeight;
                    ProxyPositiveSampleWeight = defaults.ProxyPositiveSampleWeight;
                    ProxyNegativeSampleWeight = defaults.ProxyNegativeSampleWeight;
                    ProxyProxyWeight = defaults.ProxyProxyWeight;
                    break;
                case LH2FaceLossPreset.LH2FaceLiteral:
                    Head = LH2FaceHead.LH2Face;
                    KappaScale = LH2FaceKappaScale.Raw;
                    MarginFunction = LH2FaceMarginFunction.Literal;
                    MarginCoefficient = 0.35f;
                    KappaRankingWeight = 0f;
                    ProxyPositiveSampleWeight = ProxyNegativeSampleWeight = ProxyProxyWeight = 1f;
                    break;
                case LH2FaceLossPreset.ArcFace:
                    SetBaseline(LH2FaceHead.ArcFace);
                    break;
                case LH2FaceLossPreset.CosFace:
                    SetBaseline(LH2FaceHead.CosFace);
                    break;
                case LH2FaceLossPreset.AdaFace:
                    SetBaseline(LH2FaceHead.AdaFace);
                    break;
                case LH2FaceLossPreset.MagFace:
                    SetBaseline(LH2FaceHead.MagFace);
                    break;
                case LH2FaceLossPreset.Softmax:
                    SetBaseline(LH2FaceHead.Softmax);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(preset), preset,
                        $"Unknown loss preset '{preset}': use one of {string.Join(", ", Enum.GetNames<LH2FaceLossPreset>())}.");
            }
            return this;
        }

        private void SetBaseline(LH2FaceHead head)
        {
            Head = head;
            KappaRankingWeight = 0f;
            DegradedConsistencyWeight = 0f;
            ProxyPositiveSampleWeight = ProxyNegativeSampleWeight = ProxyProxyWeight = 0f;
        }
    }
}

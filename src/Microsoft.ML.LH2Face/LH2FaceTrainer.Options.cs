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

        // ---- Head and loss ----

        /// <summary>Classification head.</summary>
        public LH2FaceHead Head = LH2FaceHead.LH2Face;

        /// <summary>Logit scale s of ArcFace and CosFace (both papers: 64).</summary>
        public float Scale = 64f;

        /// <summary>Additive angular margin m of ArcFace (paper: 0.5).</summary>
        public float ArcFaceMargin = 0.5f;

        /// <summary>Additive cosine margin m of CosFace (paper: 0.35).</summary>
        public float CosFaceMargin = 0.35f;

        /// <summary>LH2Face margin function (METHOD.md section 2).</summary>
        public LH2FaceMarginFunction MarginFunction = LH2FaceMarginFunction.Literal;

        /// <summary>LH2Face margin coefficient: m = 0.35 * mu_kappa (paper summaries).</summary>
        public float MarginCoefficient = 0.35f;

        /// <summary>Lower clamp of kappa used as the logit scale (MagFace l_a = 10).</summary>
        public float KappaMin = 10f;

        /// <summary>Upper clamp of kappa used as the logit scale (MagFace u_a = 110).</summary>
        public float KappaMax = 110f;

        /// <summary>EMA momentum of the running mean feature norm mu_kappa (METHOD.md: 0.01, as AdaFace's t_alpha).</summary>
        public float NormMomentum = 0.01f;

        /// <summary>Initial mu_kappa (METHOD.md: 20).</summary>
        public float InitialMeanNorm = 20f;

        /// <summary>How the feature norm is kept bounded.</summary>
        public LH2FaceNormControl NormControl = LH2FaceNormControl.Regulariser;

        /// <summary>lambda_g of the norm regulariser (MagFace: 35).</summary>
        public float NormRegularisationWeight = 35f;

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

        /// <summary>Stop after this many optimiser steps in total (0 = run every epoch). The schedule still spans all epochs.</summary>
        public int MaxSteps;

        /// <summary>Largest training set, in bytes of cached pixels, held in memory.</summary>
        public long MaxCacheBytes = 4L << 30;

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
    }
}

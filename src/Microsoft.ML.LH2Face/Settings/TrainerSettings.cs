namespace Microsoft.ML.LH2Face.Settings;

/// <summary>
/// The trainer's options mapped once, when the trainer is created, into the small settings each component reads:
/// the columns, the network (backbone, head, renderer), the loss (head, kappa ranking, proxy terms), the schedule and
/// the run. Components take their own settings and never the options object; <see cref="From"/> is the only place that
/// reads <see cref="LH2FaceTrainer.Options"/> field by field, and <see cref="Check"/> validates every part through
/// <see cref="OptionChecks.Require"/>, so each message still names the option the user set.
/// </summary>
internal sealed record TrainerSettings(ColumnSettings Columns, NetworkSettings Network, LossSettings Loss, ScheduleSettings Schedule, RunSettings Run)
{
    /// <summary>The backbone's settings (input size, embedding size, ...).</summary>
    public BackboneSettings Backbone => Network.Backbone;

    /// <summary>The renderer's settings, or null when the renderer is off.</summary>
    public RendererTrainingSettings? Renderer => Network.Renderer;

    /// <summary>Maps <paramref name="o"/> into per-component settings (a snapshot: later changes to the options do not reach it).</summary>
    public static TrainerSettings From(LH2FaceTrainer.Options o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var columns = new ColumnSettings(o.LabelColumnName, o.ImageColumnName, o.EmbeddingColumnName, o.QualityColumnName,
            o.ReconstructionColumnName, o.CanonicalFaceColumnName);
        var backbone = new BackboneSettings(o.Backbone, o.InputSize, o.EmbeddingSize, o.DropoutRate, o.EmbeddingNorm);
        var head = new HeadSettings(o.Head, o.EmbeddingSize, o.Scale, o.ArcFaceMargin, o.CosFaceMargin, o.KappaScale, o.MarginFunction,
            o.MarginCoefficient, o.KappaMin, o.KappaMax, o.NormMomentum, o.InitialMeanNorm, o.HardNegativeEmphasis, o.NormControl,
            o.NormRegularisationWeight, o.VmfNllWeight, o.VmfDimension, o.AdaFaceMargin, o.AdaFaceH, o.MagFaceMarginMin, o.MagFaceMarginMax);
        var renderer = o.UseRenderer
            ? new RendererTrainingSettings(o.RendererResolution, o.RendererWarpIterations, o.RendererFieldOfView, o.RendererDepthPrior,
                o.RendererLearningRate, o.ReconstructionWeight, o.FlipReconstructionWeight, o.ReconstructionGradientWeight,
                o.CanonicalRecognitionWeight, o.ViewConsistencyWeight, o.CanonicalLossesTrainRenderer)
            : null;
        var ranking = new KappaRankingSettings(o.KappaRankingWeight, o.KappaRankingShare, o.KappaRankingMargin, o.KappaRankingTrainsBackbone,
            o.DegradedConsistencyWeight);
        var proxies = new ProxySettings(o.ProxyPositiveSampleWeight, o.ProxyNegativeSampleWeight, o.ProxyProxyWeight, o.ProxyAlpha, o.ProxyDelta,
            o.ProxyLearningRateMultiplier, o.ProxySampleRate, o.ProxySampleMaxClasses, o.ProxySampleSize);
        var schedule = new ScheduleSettings(o.Epochs, o.BatchSize, o.Optimizer, o.LearningRate, o.Momentum, o.WeightDecay, o.WarmupEpochs,
            o.Schedule, o.StepMilestones?.ToArray(), o.StepGamma, o.GradientClipNorm, o.MaxSteps);
        var run = new RunSettings(o.Seed, o.Device, o.Precision, o.RecomputeActivations, o.RandomHorizontalFlip, o.MaxCacheBytes, o.DataLoading, o.LoaderThreads, o.NativeHeap, o.ValidationSet, o.EarlyStoppingPatience,
            o.CheckpointDirectory, o.CheckpointEveryNSteps, o.ResumeFrom, o.Progress, o.CancellationToken);
        return new TrainerSettings(columns, new NetworkSettings(backbone, head, renderer), new LossSettings(head, ranking, proxies, o.SampleRate),
            schedule, run);
    }

    /// <summary>Checks every component's settings (the options checks of the trainer's constructor); throws naming the option and the fix.</summary>
    public void Check()
    {
        Columns.Check(Renderer is not null);
        Backbone.Check();
        Schedule.Check();
        Network.Head.Check();
        Run.Check();
        Loss.Check(Schedule.BatchSize);
        Renderer?.Check(Backbone.InputSize);
    }
}

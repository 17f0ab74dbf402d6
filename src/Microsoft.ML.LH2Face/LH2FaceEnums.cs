namespace Microsoft.ML.LH2Face;

/// <summary>Where training runs.</summary>
public enum LH2FaceDevice
{
    /// <summary>CUDA when TorchSharp reports it available, else CPU.</summary>
    Auto,

    /// <summary>CPU.</summary>
    Cpu,

    /// <summary>CUDA; fails with a clear error when no CUDA device or CUDA build of TorchSharp is present.</summary>
    Cuda,
}

/// <summary>Optimiser.</summary>
public enum LH2FaceOptimizer
{
    /// <summary>SGD with momentum (arcface_torch default).</summary>
    Sgd,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
}

/// <summary>Learning-rate schedule after the warm-up.</summary>
public enum LH2FaceSchedule
{
    /// <summary>Cosine decay to zero at the last step.</summary>
    Cosine,

    /// <summary>Multiply by StepGamma at each milestone epoch.</summary>
    Step,
}

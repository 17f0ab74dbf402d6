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

/// <summary>
/// What Fit does to the C heap of the process on Linux with glibc (nothing elsewhere). libtorch allocates every activation
/// of a step afresh; glibc serves blocks above its mmap threshold (at most 32 MB) with mmap and unmaps them on free, so
/// every step faults its activations in again.
/// </summary>
public enum LH2FaceNativeHeap
{
    /// <summary>
    /// Large blocks come from the heap (mmap off) and freed memory is not trimmed, so each step reuses the last step's pages.
    /// Process-wide and kept after Fit. Measured on the README's main job (2 epochs, 2 cores): 143 s of CPU and 1.3 million
    /// page faults instead of 1142 s and 77 million, peak resident memory 4.5 GB instead of 3.2 GB (7.4 GB after 5 epochs: the
    /// kept blocks fragment). Left alone when the
    /// environment sets MALLOC_MMAP_MAX_, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or LH2FACE_DEFAULT_MALLOC.
    /// </summary>
    KeepFreed,

    /// <summary>The heap as the process has it: glibc's defaults or the host's own settings (lower peak memory, much slower training).</summary>
    Unchanged,
}

/// <summary>How Fit reads the training images (Options.DataLoading).</summary>
public enum LH2FaceDataLoading
{
    /// <summary>
    /// Cache when the images fit Options.MaxCacheBytes, else stream when the data can be read by position
    /// (an <c>IRandomAccessDataView</c>: ImageFolderReader.ToDataView, InsightFaceRecordReader.ToDataView); otherwise Fit fails
    /// naming MaxCacheBytes.
    /// </summary>
    Auto,

    /// <summary>Decode every image once and hold its pixels at the input size in memory (up to Options.MaxCacheBytes).</summary>
    Cache,

    /// <summary>
    /// Decode each batch's images as the batches need them, on Options.LoaderThreads background threads with a bounded
    /// prefetch queue; only the labels stay in memory. Needs an <c>IRandomAccessDataView</c>. The same seed gives the same
    /// batches, losses and checkpoints as Cache.
    /// </summary>
    Stream,
}

/// <summary>
/// The number format of the backbone's training passes (Options.Precision). Master weights, optimiser state, batch-norm
/// statistics, the embedding layer, the loss and every evaluation pass (validation, the transformer, ONNX) stay float32.
/// </summary>
public enum LH2FacePrecision
{
    /// <summary>Float32 throughout (the default).</summary>
    Float32,

    /// <summary>
    /// The convolutional trunk computes in bfloat16 during training: inputs, convolution and PReLU weights are cast per
    /// pass (what an autocast does), gradients flow back to the float32 weights. Measured on an AMD EPYC with AVX512_BF16:
    /// the backbone's pass in 0.44-0.60 of float32's time, whole training steps about 1.6x the images per second, a third
    /// less peak memory; slower than float32 on CPUs without bfloat16 instructions; not measured on GPUs. See README,
    /// "Performance and memory", "bfloat16".
    /// </summary>
    BFloat16,
}

using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.LH2Face.Data.Embedding;

/// <summary>
/// Embeds aligned crops with any ONNX face model whose input is [N, 3, H, W] (H = W =
/// <see cref="OnnxFaceEmbedderOptions.InputSize"/>) and whose output is [N, D] (or [N, D, 1, 1]),
/// through ONNX Runtime directly. Pixels are normalised as (x - Mean) / Std in the configured channel
/// order.
/// </summary>
public sealed class OnnxFaceEmbedder : IFaceEmbedder
{
    private readonly InferenceSession session;
    private readonly OnnxFaceEmbedderOptions options;
    private readonly string inputName;
    private readonly string outputName;
    private readonly int batchSize;
    private readonly bool fixedBatch;
    private bool disposed;

    /// <summary>Opens an ONNX model.</summary>
    /// <param name="modelPath">Path of the .onnx file.</param>
    /// <param name="options">Input size, normalisation, channel order, batch size; defaults when null.</param>
    public OnnxFaceEmbedder(string modelPath, OnnxFaceEmbedderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"ONNX model '{modelPath}' does not exist: pass the path of an exported .onnx face model.", modelPath);
        this.options = options ?? new OnnxFaceEmbedderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(this.options.InputSize, 1, nameof(options) + ".InputSize");
        ArgumentOutOfRangeException.ThrowIfLessThan(this.options.BatchSize, 1, nameof(options) + ".BatchSize");
        if (this.options.Std == 0 || !float.IsFinite(this.options.Std))
            throw new ArgumentOutOfRangeException(nameof(options), this.options.Std, "options.Std must be a finite non-zero number (127.5 for arcface_torch models).");

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = this.options.IntraOpThreads };
        session = new InferenceSession(modelPath, sessionOptions);
        try
        {
            inputName = this.options.InputName ?? session.InputMetadata.Keys.First();
            outputName = this.options.OutputName ?? session.OutputMetadata.Keys.First();
            if (!session.InputMetadata.TryGetValue(inputName, out var input))
                throw new ArgumentException($"ONNX model '{modelPath}' has no input '{inputName}' (inputs: {string.Join(", ", session.InputMetadata.Keys)}): set options.InputName.", nameof(options));
            if (!session.OutputMetadata.ContainsKey(outputName))
                throw new ArgumentException($"ONNX model '{modelPath}' has no output '{outputName}' (outputs: {string.Join(", ", session.OutputMetadata.Keys)}): set options.OutputName.", nameof(options));
            int[] dims = input.Dimensions;
            int s = this.options.InputSize;
            if (input.ElementType != typeof(float) || dims.Length != 4 || !Fits(dims[1], 3) || !Fits(dims[2], s) || !Fits(dims[3], s))
                throw new ArgumentException($"ONNX model '{modelPath}' input '{inputName}' is {input.ElementType.Name}[{string.Join(", ", dims)}]; this embedder feeds float[N, 3, {s}, {s}]: set options.InputSize to the model's crop size, or use a model with an NCHW float input.", nameof(options));
            fixedBatch = dims[0] > 0;
            batchSize = fixedBatch ? dims[0] : this.options.BatchSize;
        }
        catch
        {
            session.Dispose();
            throw;
        }

        static bool Fits(int dim, int wanted) => dim <= 0 || dim == wanted;
    }

    /// <inheritdoc />
    public int InputSize => options.InputSize;

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<MLImage> images, bool flipTest, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Run(images.Count, i => PlanarImage.FromImage(images[i], InputSize, i), flipTest, progress);
    }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<float[]> planarImages, bool flipTest, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(planarImages);
        return Run(planarImages.Count, i =>
        {
            PlanarImage.CheckPlanar(planarImages[i], InputSize, i);
            return planarImages[i];
        }, flipTest, progress);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        disposed = true;
        session.Dispose();
    }

    private float[][] Run(int count, Func<int, float[]> planarOf, bool flipTest, IProgress<int>? progress)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int s = InputSize, imageValues = 3 * s * s;
        var result = new float[count][];
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            int rows = fixedBatch ? batchSize : n;
            var plain = new float[rows * imageValues];
            var flipped = flipTest ? new float[rows * imageValues] : null;
            for (int i = 0; i < n; i++)
            {
                float[] planar = planarOf(start + i);
                Normalise(planar, plain.AsSpan(i * imageValues, imageValues));
                if (flipped is not null)
                    Normalise(PlanarImage.FlipHorizontal(planar, s), flipped.AsSpan(i * imageValues, imageValues));
            }
            float[][] a = Infer(plain, rows, n);
            if (flipped is not null)
            {
                float[][] b = Infer(flipped, rows, n);
                for (int i = 0; i < n; i++)
                    System.Numerics.Tensors.TensorPrimitives.Add(a[i], b[i], a[i]);
            }
            a.CopyTo(result, start);
            progress?.Report(start + n);
        }
        return result;
    }

    private void Normalise(float[] planar, Span<float> destination)
    {
        int plane = InputSize * InputSize;
        for (int c = 0; c < 3; c++)
        {
            int source = options.ChannelOrder == ChannelOrder.Bgr ? 2 - c : c;
            ReadOnlySpan<float> from = planar.AsSpan(source * plane, plane);
            Span<float> to = destination.Slice(c * plane, plane);
            System.Numerics.Tensors.TensorPrimitives.Subtract(from, options.Mean, to);
            System.Numerics.Tensors.TensorPrimitives.Divide(to, options.Std, to);
        }
    }

    private float[][] Infer(float[] batch, int rows, int take)
    {
        long[] shape = { rows, 3, InputSize, InputSize };
        using var input = OrtValue.CreateTensorValueFromMemory(batch, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new Dictionary<string, OrtValue> { [inputName] = input }, new[] { outputName });
        ReadOnlySpan<float> values = outputs[0].GetTensorDataAsSpan<float>();
        int dim = values.Length / rows;
        var result = new float[take][];
        for (int i = 0; i < take; i++)
            result[i] = values.Slice(i * dim, dim).ToArray();
        return result;
    }
}

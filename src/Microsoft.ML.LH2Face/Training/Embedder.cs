using static TorchSharp.torch;

namespace Microsoft.ML.LH2Face.Training;

/// <summary>Eval-mode embeddings of cached images with the TorchSharp network (validation and tests).</summary>
internal static class Embedder
{
    private const int BatchSize = 64;

    /// <summary>L2-normalised embeddings of the first <paramref name="maxImages"/> images.</summary>
    public static float[][] Embed(FaceNetwork network, FaceImageSet data, Device device, int maxImages = int.MaxValue)
    {
        int count = Math.Min(data.Count, maxImages);
        var result = new float[count][];
        int pixels = data.PixelsPerImage;
        network.eval();
        using var noGrad = no_grad();
        for (int start = 0; start < count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, count - start);
            var buffer = new float[n * pixels];
            for (int i = 0; i < n; i++)
                data.CopyImage(start + i, buffer.AsSpan(i * pixels, pixels), flip: false);
            var (embeddings, _) = EmbedPixels(network, buffer, n, data.InputSize, device);
            for (int i = 0; i < n; i++)
                result[start + i] = embeddings[i];
        }
        return result;
    }

    /// <summary>Embeddings and norms of <paramref name="n"/> planar images in <paramref name="pixels"/>; the network must be in eval mode.</summary>
    public static (float[][] Embeddings, float[] Norms) EmbedPixels(FaceNetwork network, float[] pixels, int n, int side, Device device)
    {
        using var scope = NewDisposeScope();
        var input = tensor(pixels, new long[] { n, 3, side, side }).to(device);
        var (embedding, norm) = FaceNetwork.Split(network.Features(input));
        var flat = embedding.cpu().data<float>().ToArray();
        var norms = norm.cpu().data<float>().ToArray();
        int d = (int)embedding.shape[1];
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
            rows[i] = flat.AsSpan(i * d, d).ToArray();
        return (rows, norms);
    }
}

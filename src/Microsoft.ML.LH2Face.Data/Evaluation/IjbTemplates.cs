using System.Numerics.Tensors;

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// The IJB-B / IJB-C template protocol (insightface <c>image2template_feature</c> and <c>verification</c>):
/// image features times faceness, averaged within a media, summed over the media of a template,
/// L2-normalised; template pairs scored by dot product.
/// </summary>
public static class IjbTemplates
{
    /// <summary>Builds template features from per-image features.</summary>
    /// <param name="features">Per image: emb(img) + emb(flipped img), not normalised (the norm weighs quality).</param>
    /// <param name="templateIds">Template id of each image.</param>
    /// <param name="mediaIds">Media id of each image.</param>
    /// <param name="faceness">Detector (faceness) score of each image; pass 1 for every image to ignore it.</param>
    public static TemplateFeatures Aggregate(IReadOnlyList<float[]> features, ReadOnlySpan<int> templateIds, ReadOnlySpan<int> mediaIds, ReadOnlySpan<float> faceness)
    {
        ArgumentNullException.ThrowIfNull(features);
        int n = features.Count;
        if (templateIds.Length != n || mediaIds.Length != n || faceness.Length != n)
            throw new ArgumentException($"features has {n} rows but templateIds, mediaIds, faceness have {templateIds.Length}, {mediaIds.Length}, {faceness.Length}: pass one of each per image.", nameof(templateIds));
        if (n == 0)
            throw new ArgumentException("features is empty: the template protocol needs at least one image.", nameof(features));
        int dim = features[0].Length;

        // Group image indices by (template, media), both ascending.
        var order = Enumerable.Range(0, n).ToArray();
        int[] t = templateIds.ToArray(), m = mediaIds.ToArray();
        Array.Sort(order, (a, b) => t[a] != t[b] ? t[a].CompareTo(t[b]) : m[a] != m[b] ? m[a].CompareTo(m[b]) : a.CompareTo(b));

        var ids = new List<int>();
        var matrix = new List<float[]>();
        var mediaSum = new float[dim];
        int i = 0;
        while (i < n)
        {
            int template = t[order[i]];
            var templateSum = new float[dim];
            while (i < n && t[order[i]] == template)
            {
                int media = m[order[i]];
                Array.Clear(mediaSum);
                int count = 0;
                while (i < n && t[order[i]] == template && m[order[i]] == media)
                {
                    int row = order[i];
                    float[] f = features[row];
                    if (f.Length != dim)
                        throw new ArgumentException($"features[{row}] has {f.Length} values, features[0] has {dim}: all features must have one dimension.", nameof(features));
                    TensorPrimitives.MultiplyAdd(f, faceness[row], mediaSum, mediaSum);
                    count++;
                    i++;
                }
                TensorPrimitives.MultiplyAdd(mediaSum, 1f / count, templateSum, templateSum);
            }
            float norm = TensorPrimitives.Norm(templateSum);
            if (norm > 0)
                TensorPrimitives.Divide(templateSum, norm, templateSum);
            ids.Add(template);
            matrix.Add(templateSum);
        }
        var flat = new float[(long)ids.Count * dim];
        for (int r = 0; r < matrix.Count; r++)
            matrix[r].CopyTo(flat, r * dim);
        return new TemplateFeatures(ids.ToArray(), flat, dim);
    }

    /// <summary>Scores template pairs (tid1[k], tid2[k]) by the dot product of their features.</summary>
    /// <param name="templates">Template features.</param>
    /// <param name="templateIds1">First template id of each pair.</param>
    /// <param name="templateIds2">Second template id of each pair.</param>
    public static float[] ScorePairs(TemplateFeatures templates, ReadOnlySpan<int> templateIds1, ReadOnlySpan<int> templateIds2)
    {
        ArgumentNullException.ThrowIfNull(templates);
        if (templateIds1.Length != templateIds2.Length)
            throw new ArgumentException($"templateIds1 has {templateIds1.Length} ids but templateIds2 has {templateIds2.Length}: pass one id of each side per pair.", nameof(templateIds2));
        var rows1 = new int[templateIds1.Length];
        var rows2 = new int[templateIds2.Length];
        for (int k = 0; k < rows1.Length; k++)
        {
            rows1[k] = templates.RowOf(templateIds1[k]);
            rows2[k] = templates.RowOf(templateIds2[k]);
        }
        var scores = new float[rows1.Length];
        PairScorer.Score(templates.Matrix, templates.Dimension, rows1, rows2, scores);
        return scores;
    }
}

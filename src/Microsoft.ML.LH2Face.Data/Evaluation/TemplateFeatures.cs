namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>L2-normalised template features, one row per template id (ascending ids), stored row-major.</summary>
public sealed class TemplateFeatures
{
    private readonly int[] templateIds;
    private readonly Dictionary<int, int> rowOf;
    private readonly int[]? denseRowOf; // row + 1 by (id - minId), when ids are dense enough; 0 = absent
    private readonly int minId;

    /// <summary>Wraps a row-major matrix of template features.</summary>
    /// <param name="templateIds">Template id of each row; distinct.</param>
    /// <param name="matrix">Row-major features, templateIds.Length x dimension.</param>
    /// <param name="dimension">Feature dimension.</param>
    public TemplateFeatures(int[] templateIds, float[] matrix, int dimension)
    {
        ArgumentNullException.ThrowIfNull(templateIds);
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (matrix.Length != (long)templateIds.Length * dimension)
            throw new ArgumentException($"matrix has {matrix.Length} values; {templateIds.Length} templates of dimension {dimension} need {(long)templateIds.Length * dimension}.", nameof(matrix));
        this.templateIds = templateIds;
        Matrix = matrix;
        Dimension = dimension;
        rowOf = new Dictionary<int, int>(templateIds.Length);
        for (int r = 0; r < templateIds.Length; r++)
        {
            if (!rowOf.TryAdd(templateIds[r], r))
                throw new ArgumentException($"Template id {templateIds[r]} occurs twice in templateIds: give each template one row.", nameof(templateIds));
        }
        // IJB template ids are small dense integers: an array lookup is several times faster than the
        // dictionary over millions of pairs.
        if (templateIds.Length > 0)
        {
            minId = templateIds.Min();
            long span = (long)templateIds.Max() - minId + 1;
            if (span <= 4L * templateIds.Length + 1024)
            {
                denseRowOf = new int[span];
                for (int r = 0; r < templateIds.Length; r++)
                    denseRowOf[templateIds[r] - minId] = r + 1;
            }
        }
    }

    /// <summary>Template ids, one per row.</summary>
    public IReadOnlyList<int> TemplateIds => templateIds;

    /// <summary>Feature dimension.</summary>
    public int Dimension { get; }

    /// <summary>Number of templates.</summary>
    public int Count => templateIds.Length;

    /// <summary>The row-major feature matrix.</summary>
    internal float[] Matrix { get; }

    /// <summary>The feature of row <paramref name="row"/>.</summary>
    /// <param name="row">Row index.</param>
    public ReadOnlySpan<float> Row(int row) => Matrix.AsSpan(row * Dimension, Dimension);

    /// <summary>The row of a template id.</summary>
    /// <param name="templateId">Template id.</param>
    /// <exception cref="KeyNotFoundException">The id has no feature.</exception>
    public int RowOf(int templateId)
    {
        if (denseRowOf is not null)
        {
            long i = (long)templateId - minId;
            if (i >= 0 && i < denseRowOf.Length && denseRowOf[i] > 0)
                return denseRowOf[i] - 1;
        }
        else if (rowOf.TryGetValue(templateId, out int row))
        {
            return row;
        }
        throw new KeyNotFoundException($"Template id {templateId} has no feature: every template of the pair list must have at least one image in the template/media list.");
    }
}

using System.Numerics.Tensors;

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// Dot products of many row pairs of one row-major matrix. Large pair lists are processed tile by
/// tile: pairs are bucketed (counting sort) by (block of the first row, block of the second row), so the
/// two row blocks of a tile stay in the core's L2 cache while its pairs are scored with
/// TensorPrimitives.Dot; tiles run in parallel.
/// </summary>
public static class PairScorer
{
    private const int ChunkSize = 16384;
    private const int BlockRows = 256;
    private const int TiledMinimumPairs = 1 << 20;

    /// <summary>Writes destination[k] = dot(row rows1[k], row rows2[k]) of <paramref name="matrix"/>.</summary>
    /// <param name="matrix">Row-major matrix.</param>
    /// <param name="dimension">Row length.</param>
    /// <param name="rows1">First row of each pair.</param>
    /// <param name="rows2">Second row of each pair.</param>
    /// <param name="destination">One score per pair.</param>
    public static void Score(float[] matrix, int dimension, int[] rows1, int[] rows2, float[] destination)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(rows1);
        ArgumentNullException.ThrowIfNull(rows2);
        ArgumentNullException.ThrowIfNull(destination);
        if (rows1.Length != rows2.Length || destination.Length != rows1.Length)
            throw new ArgumentException($"rows1, rows2 and destination must have one length (got {rows1.Length}, {rows2.Length}, {destination.Length}).", nameof(destination));
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        int rowCount = matrix.Length / dimension;
        for (int k = 0; k < rows1.Length; k++)
        {
            if ((uint)rows1[k] >= (uint)rowCount || (uint)rows2[k] >= (uint)rowCount)
                throw new ArgumentOutOfRangeException(nameof(rows1), $"Pair {k} refers to row {rows1[k]} / {rows2[k]}; the matrix has {rowCount} rows.");
        }
        if (rows1.Length >= TiledMinimumPairs && rowCount > 2 * BlockRows)
            ScoreTiled(matrix, dimension, rowCount, rows1, rows2, destination);
        else
            ScoreInOrder(matrix, dimension, rows1, rows2, destination);
    }

    private static void ScoreInOrder(float[] matrix, int dimension, int[] rows1, int[] rows2, float[] destination)
    {
        int chunks = (rows1.Length + ChunkSize - 1) / ChunkSize;
        Parallel.For(0, chunks, c =>
        {
            int start = c * ChunkSize, end = Math.Min(rows1.Length, start + ChunkSize);
            ReadOnlySpan<float> m = matrix;
            for (int k = start; k < end; k++)
                destination[k] = TensorPrimitives.Dot(m.Slice(rows1[k] * dimension, dimension), m.Slice(rows2[k] * dimension, dimension));
        });
    }

    private static void ScoreTiled(float[] matrix, int dimension, int rowCount, int[] rows1, int[] rows2, float[] destination)
    {
        int blocks = (rowCount + BlockRows - 1) / BlockRows;
        int tiles = blocks * blocks;
        var start = new int[tiles + 1];
        for (int k = 0; k < rows1.Length; k++)
            start[rows1[k] / BlockRows * blocks + rows2[k] / BlockRows + 1]++;
        for (int t = 0; t < tiles; t++)
            start[t + 1] += start[t];
        var order = new int[rows1.Length];
        var next = (int[])start.Clone();
        for (int k = 0; k < rows1.Length; k++)
            order[next[rows1[k] / BlockRows * blocks + rows2[k] / BlockRows]++] = k;

        // Tiles are grouped into chunks of about ChunkSize pairs for the parallel loop.
        var chunkStarts = new List<int> { 0 };
        for (int t = 1; t < tiles; t++)
        {
            if (start[t] - start[chunkStarts[^1]] >= ChunkSize)
                chunkStarts.Add(t);
        }
        chunkStarts.Add(tiles);
        Parallel.For(0, chunkStarts.Count - 1, c =>
        {
            ReadOnlySpan<float> m = matrix;
            for (int i = start[chunkStarts[c]]; i < start[chunkStarts[c + 1]]; i++)
            {
                int k = order[i];
                destination[k] = TensorPrimitives.Dot(m.Slice(rows1[k] * dimension, dimension), m.Slice(rows2[k] * dimension, dimension));
            }
        });
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>
/// Sorts (score, isGenuine) pairs by score with an LSD radix sort on a 33-bit key: the order-preserving
/// bits of the float score, then the genuine flag. Hand-written because the BCL has no radix sort and
/// Array.Sort of 8 million keys is several times slower; equal scores end up adjacent, which is all the
/// ROC needs.
/// </summary>
internal static class ScoreSort
{
    private const int DigitBits = 11;
    private const int Buckets = 1 << DigitBits;
    private const int Passes = 3;

    /// <summary>Order-preserving unsigned image of a float (-0 is mapped like +0).</summary>
    public static uint SortableBits(float score)
    {
        uint bits = BitConverter.SingleToUInt32Bits(score == 0f ? 0f : score);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>Inverse of <see cref="SortableBits"/>.</summary>
    public static float FromSortableBits(uint key)
        => BitConverter.UInt32BitsToSingle((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);

    /// <summary>Returns the keys (sortable score bits &lt;&lt; 1 | genuine) in ascending order.</summary>
    public static ulong[] SortedKeys(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isGenuine)
    {
        int n = scores.Length;
        var keys = new ulong[n];
        for (int i = 0; i < n; i++)
            keys[i] = ((ulong)SortableBits(scores[i]) << 1) | (isGenuine[i] ? 1ul : 0ul);

        var buffer = new ulong[n];
        var counts = new int[Buckets];
        for (int pass = 0; pass < Passes; pass++)
        {
            int shift = pass * DigitBits;
            Array.Clear(counts);
            foreach (ulong k in keys)
                counts[(int)((k >> shift) & (Buckets - 1))]++;
            int sum = 0;
            for (int b = 0; b < Buckets; b++)
            {
                int c = counts[b];
                counts[b] = sum;
                sum += c;
            }
            foreach (ulong k in keys)
                buffer[counts[(int)((k >> shift) & (Buckets - 1))]++] = k;
            (keys, buffer) = (buffer, keys);
        }
        return keys;
    }
}

namespace Microsoft.ML.LH2Face.Data.Evaluation;

/// <summary>Argument checks shared by the verification metrics.</summary>
internal static class PairChecks
{
    public static void Check(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isGenuine, out long genuine, out long impostor, string? stratum = null)
    {
        if (scores.Length != isGenuine.Length)
            throw new ArgumentException($"scores has {scores.Length} values but isGenuine has {isGenuine.Length}: pass one label per score.", nameof(isGenuine));
        genuine = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (float.IsNaN(scores[i]))
                throw new ArgumentException($"scores[{i}] is NaN: check the embeddings of that pair (a zero or NaN feature gives NaN scores).", nameof(scores));
            if (isGenuine[i])
                genuine++;
        }
        impostor = scores.Length - genuine;
        if (genuine == 0 || impostor == 0)
        {
            string where = stratum is null ? "" : $" in stratum '{stratum}'";
            throw new ArgumentException(
                $"Verification metrics need at least one genuine and one impostor pair{where} (got {genuine} genuine, {impostor} impostor): " +
                "TAR is undefined without genuine pairs and FAR without impostor pairs; add pairs of the missing kind.", nameof(isGenuine));
        }
    }
}

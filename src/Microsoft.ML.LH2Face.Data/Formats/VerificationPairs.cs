using Microsoft.ML.Data;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// An insightface verification set (.bin: lfw, cfp_fp, agedb_30, calfw, cplfw): a pickle of (bins, issame) with
/// 2N encoded images and N booleans, pair k = (bins[2k], bins[2k + 1]). Reading uses a restricted pickle parser
/// that builds data only and refuses any opcode that could run code.
/// </summary>
public sealed class VerificationPairs
{
    /// <summary>Wraps pairs already in memory.</summary>
    public VerificationPairs(IReadOnlyList<VerificationPair> pairs, string source = "pairs")
    {
        ArgumentNullException.ThrowIfNull(pairs);
        Pairs = pairs;
        Source = source;
    }

    /// <summary>The pairs, in file order.</summary>
    public IReadOnlyList<VerificationPair> Pairs { get; }

    /// <summary>Where the pairs came from (the file path when read).</summary>
    public string Source { get; }

    /// <summary>Number of pairs.</summary>
    public int Count => Pairs.Count;

    /// <summary>Reads a .bin file sequentially.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, is not (bins, issame), or uses a refused pickle opcode; the message names file and offset.</exception>
    public static VerificationPairs Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    /// <summary>Reads a pickle of (bins, issame) from <paramref name="stream"/>; <paramref name="name"/> appears in errors.</summary>
    /// <exception cref="InvalidDataException">The pickle is truncated, is not (bins, issame), or uses a refused opcode.</exception>
    public static VerificationPairs Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var root = RestrictedPickleReader.Read(stream, name);
        if (AsSequence(root) is not { Count: 2 } top)
        {
            throw new InvalidDataException($"'{name}': expected a pickled (bins, issame) pair, got {Describe(root)}.");
        }
        if (AsSequence(top[0]) is not { } bins)
        {
            throw new InvalidDataException($"'{name}': bins must be a list of encoded images, got {Describe(top[0])}.");
        }
        if (AsSequence(top[1]) is not { } issame)
        {
            throw new InvalidDataException($"'{name}': issame must be a list of booleans, got {Describe(top[1])}.");
        }
        if (bins.Count != 2 * issame.Count)
        {
            throw new InvalidDataException($"'{name}': {bins.Count} images for {issame.Count} pairs; a verification set holds exactly 2 images per pair.");
        }
        var pairs = new VerificationPair[issame.Count];
        for (int k = 0; k < pairs.Length; k++)
        {
            pairs[k] = new VerificationPair(
                bins[2 * k] as byte[] ?? throw new InvalidDataException($"'{name}': bins[{2 * k}] is {Describe(bins[2 * k])}, not bytes."),
                bins[2 * k + 1] as byte[] ?? throw new InvalidDataException($"'{name}': bins[{2 * k + 1}] is {Describe(bins[2 * k + 1])}, not bytes."),
                issame[k] is bool same ? same : throw new InvalidDataException($"'{name}': issame[{k}] is {Describe(issame[k])}, not a boolean."));
        }
        return new VerificationPairs(pairs, name);
    }

    /// <summary>
    /// Writes the pairs as a pickle of (bins, issame). Protocol 3 or 4 (default) stores images with
    /// SHORT_BINBYTES/BINBYTES(8); protocol 2 uses Python 3's form _codecs.encode(str, 'latin1').
    /// </summary>
    public void Write(string path, int protocol = 4)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        PickleWriter.WriteBinsAndIsSame(stream, Pairs.SelectMany(p => new[] { p.ImageA, p.ImageB }).ToList(), Pairs.Select(p => p.IsSame).ToList(), protocol);
    }

    /// <summary>
    /// The pairs as an <see cref="IDataView"/>: "ImageA" and "ImageB" (MLImage, decoded on demand) and "IsSame" (Boolean).
    /// </summary>
    public IDataView ToDataView()
        => new RowDataView<(int Index, VerificationPair Pair)>(
            () => Pairs.Select((p, i) => (i, p)),
            Pairs.Count,
            ImageColumns.Encoded<(int Index, VerificationPair Pair)>("ImageA", r => r.Pair.ImageA, r => $"'{Source}' pair {r.Index} image A"),
            ImageColumns.Encoded<(int Index, VerificationPair Pair)>("ImageB", r => r.Pair.ImageB, r => $"'{Source}' pair {r.Index} image B"),
            RowColumn<(int Index, VerificationPair Pair)>.Create("IsSame", BooleanDataViewType.Instance, ((int Index, VerificationPair Pair) r, ref bool value) => value = r.Pair.IsSame));

    private static IReadOnlyList<object>? AsSequence(object value) => value switch
    {
        List<object> list => list,
        object[] tuple => tuple,
        _ => null,
    };

    private static string Describe(object value) => value switch
    {
        List<object> list => $"a list of {list.Count}",
        object[] tuple => $"a tuple of {tuple.Length}",
        byte[] bytes => $"{bytes.Length} bytes",
        string => "a str",
        bool => "a bool",
        long => "an int",
        RestrictedPickleReader.None => "None",
        _ => value.GetType().Name,
    };
}

using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Data.Formats;

namespace Microsoft.ML.LH2Face.Data.Tests.Formats;

[TestClass]
public sealed class VerificationPairsTests
{
    private static VerificationPairs ReadBytes(TempFolder temp, byte[] pickle, string name = "set.bin")
    {
        File.WriteAllBytes(temp.File(name), pickle);
        return VerificationPairs.Read(temp.File(name));
    }

    // What Python 3 writes for pickle.dumps(([b'ab\xff', b'cd'], [True]), protocol=2): bytes as
    // _codecs.encode(str, 'latin1'), with the global and 'latin1' memoised and fetched back by BINGET.
    private static byte[] Protocol2CodecsForm() => new Bytes()
        .U8(0x80, 2)                                   // PROTO 2
        .U8(']').U8('q', 0)                            // EMPTY_LIST, BINPUT 0
        .U8('(')                                       // MARK
        .U8('c').Ascii("_codecs\nencode\n").U8('q', 1) // GLOBAL, BINPUT 1
        .U8('X').I32(4).U8('a', 'b', 0xc3, 0xbf).U8('q', 2) // BINUNICODE 'ab\u00ff' (UTF-8)
        .U8('X').I32(6).Ascii("latin1").U8('q', 3)
        .U8(0x86).U8('q', 4).U8('R').U8('q', 5)        // TUPLE2, REDUCE
        .U8('h', 1)                                    // BINGET 1 (_codecs.encode)
        .U8('X').I32(2).Ascii("cd").U8('q', 6)
        .U8('h', 3)                                    // BINGET 3 ('latin1')
        .U8(0x86).U8('q', 7).U8('R').U8('q', 8)
        .U8('e')                                       // APPENDS
        .U8(']').U8('q', 9).U8(0x88).U8('a')           // EMPTY_LIST, BINPUT, NEWTRUE, APPEND
        .U8(0x86).U8('q', 10).U8('.')                  // TUPLE2, STOP
        .ToArray();

    [TestMethod]
    public void Read_Protocol2CodecsEncodeForm_GivesLatin1Bytes()
    {
        using var temp = new TempFolder();
        var pairs = ReadBytes(temp, Protocol2CodecsForm());
        Assert.AreEqual(1, pairs.Count);
        CollectionAssert.AreEqual(new byte[] { (byte)'a', (byte)'b', 0xff }, pairs.Pairs[0].ImageA);
        CollectionAssert.AreEqual(new byte[] { (byte)'c', (byte)'d' }, pairs.Pairs[0].ImageB);
        Assert.IsTrue(pairs.Pairs[0].IsSame);
    }

    [TestMethod]
    public void Read_Protocol4ShortBinBytesWithFrameAndMemoize_GivesPairs()
    {
        using var temp = new TempFolder();
        // pickle.dumps(([b'ab\xff', b'cd', b'e', b'f'], [False, True]), protocol=4), framing included.
        var body = new Bytes()
            .U8(']', 0x94, '(')
            .U8('C', 3, 'a', 'b', 0xff, 0x94).U8('C', 2, 'c', 'd', 0x94).U8('C', 1, 'e', 0x94).U8('C', 1, 'f', 0x94)
            .U8('e', ']', 0x94, '(', 0x89, 0x88, 'e', 0x86, 0x94, '.').ToArray();
        var pickle = new Bytes().U8(0x80, 4, 0x95).U64((ulong)body.Length).Raw(body).ToArray();
        var pairs = ReadBytes(temp, pickle);
        Assert.AreEqual(2, pairs.Count);
        CollectionAssert.AreEqual(new byte[] { (byte)'e' }, pairs.Pairs[1].ImageA);
        CollectionAssert.AreEqual(new byte[] { (byte)'f' }, pairs.Pairs[1].ImageB);
        CollectionAssert.AreEqual(new[] { false, true }, pairs.Pairs.Select(p => p.IsSame).ToArray());
    }

    [TestMethod]
    public void Read_Python2StrAndIntBooleans_GivesPairs()
    {
        using var temp = new TempFolder();
        // Python 2, protocol 1: str as SHORT_BINSTRING/BINSTRING, bools as INT "01"/"00", tuple via MARK ... TUPLE.
        var pickle = new Bytes()
            .U8('(', ']', 'q', 1, '(')
            .U8('U', 2, 1, 2).U8('T').I32(3).U8(3, 4, 5)
            .U8('e', ']', 'q', 2, 'I').Ascii("00\n").U8('a', 't', 'q', 3, '.').ToArray();
        var pairs = ReadBytes(temp, pickle);
        Assert.AreEqual(1, pairs.Count);
        CollectionAssert.AreEqual(new byte[] { 1, 2 }, pairs.Pairs[0].ImageA);
        CollectionAssert.AreEqual(new byte[] { 3, 4, 5 }, pairs.Pairs[0].ImageB);
        Assert.IsFalse(pairs.Pairs[0].IsSame);
    }

    [TestMethod]
    public void Read_Protocol0AsPython3WritesIt_GivesLatin1BytesWithEscapes()
    {
        using var temp = new TempFolder();
        // pickle.dumps(([b'ab\\c\n\x00\xff\r\x1a\xe9', b'\\u0041'], [True]), protocol=0) from Python 3.11: text memo
        // (PUT/GET), str as UNICODE lines in raw-unicode-escape (backslash, LF, NUL, CR and 0x1a escaped), INT "01".
        var pickle = Convert.FromHexString(
            "28286c70300a635f636f646563730a656e636f64650a70310a285661625c7530303563635c75303030615c7530303030ff5c7530303064"
            + "5c7530303161e90a70320a566c6174696e310a70330a7470340a5270350a6167310a28565c753030356375303034310a70360a67330a74"
            + "70370a5270380a61286c70390a4930310a61747031300a2e");
        var pairs = ReadBytes(temp, pickle);
        Assert.AreEqual(1, pairs.Count);
        CollectionAssert.AreEqual(new byte[] { (byte)'a', (byte)'b', (byte)'\\', (byte)'c', 10, 0, 0xff, 13, 0x1a, 0xe9 }, pairs.Pairs[0].ImageA);
        CollectionAssert.AreEqual("\\u0041"u8.ToArray(), pairs.Pairs[0].ImageB);
        Assert.IsTrue(pairs.Pairs[0].IsSame);
    }

    [TestMethod]
    public void Read_Protocol1AsPython3WritesIt_GivesBytesAndEmptyBytes()
    {
        using var temp = new TempFolder();
        // pickle.dumps(([b'ab\xff', b''], [False]), protocol=1) from Python 3.11: empty bytes as __builtin__.bytes().
        var pickle = Convert.FromHexString(
            "285d710028635f636f646563730a656e636f64650a71012858040000006162c3bf710258060000006c6174696e3171037471045271"
            + "05635f5f6275696c74696e5f5f0a62797465730a710629527107655d71084930300a617471092e");
        var pairs = ReadBytes(temp, pickle);
        Assert.AreEqual(1, pairs.Count);
        CollectionAssert.AreEqual(new byte[] { (byte)'a', (byte)'b', 0xff }, pairs.Pairs[0].ImageA);
        Assert.AreEqual(0, pairs.Pairs[0].ImageB.Length);
        Assert.IsFalse(pairs.Pairs[0].IsSame);
    }

    [TestMethod]
    public void Read_Protocol0MalformedEscapeOrBuiltinsWithArguments_Refused()
    {
        using var temp = new TempFolder();
        var badEscape = new Bytes().U8('(', 'l').Ascii("p0\nV\\u00zz\np1\na(lp2\nI01\natp3\n.").ToArray();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, badEscape, "escape.bin"));
        StringAssert.Contains(e.Message, "escape.bin");
        StringAssert.Contains(e.Message, "malformed \\u escape");
        // bytes(...) with an argument could build anything from an iterable: only bytes() is read.
        var bytesCall = new Bytes().U8('c').Ascii("__builtin__\nbytes\n").U8('(', 'I').Ascii("3\n").U8('t', 'R', '.').ToArray();
        e = Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, bytesCall, "call.bin"));
        StringAssert.Contains(e.Message, "refuses opcode REDUCE");
    }

    [TestMethod]
    public void Read_GlobalOsSystem_RefusedWithOpcodeAndOffset()
    {
        using var temp = new TempFolder();
        var pickle = new Bytes().U8(0x80, 2).U8('c').Ascii("os\nsystem\n").U8('X').I32(2).Ascii("ls").U8(0x85, 'R', '.').ToArray();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, pickle));
        Assert.Contains(temp.File("set.bin"), e.Message);
        Assert.Contains("refuses opcode GLOBAL (0x63) naming 'os.system' at offset 2: this reader only reads data, never objects", e.Message);
    }

    [TestMethod]
    public void Read_StackGlobalOrCodecsWithOtherEncoding_Refused()
    {
        using var temp = new TempFolder();
        var stackGlobal = new Bytes().U8(0x80, 4).U8(0x8c, 2).Ascii("os").U8(0x8c, 6).Ascii("system").U8(0x93, '.').ToArray();
        Assert.Contains("refuses opcode STACK_GLOBAL (0x93) at offset 14", Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, stackGlobal)).Message);

        var utf8 = new Bytes().U8(0x80, 2).U8('c').Ascii("_codecs\nencode\n").U8('X').I32(1).Ascii("a").U8('X').I32(5).Ascii("utf-8").U8(0x86, 'R', '.').ToArray();
        Assert.Contains("refuses opcode REDUCE (0x52) (only _codecs.encode(str, 'latin1') and bytes() are accepted) at offset 35", Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, utf8)).Message);

        var build = new Bytes().U8(0x80, 2, ']', ']', 'b', '.').ToArray();
        Assert.Contains("refuses opcode BUILD (0x62) at offset 4", Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, build)).Message);
    }

    [TestMethod]
    public void Read_Truncated_ThrowsNamingFileAndOffset()
    {
        using var temp = new TempFolder();
        var full = Protocol2CodecsForm();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, full[..30]));
        Assert.Contains(temp.File("set.bin"), e.Message);
        Assert.Contains("truncated at offset 29", e.Message, "BINUNICODE at 24 announces 4 bytes from offset 29");

        var noStop = ReadBytesError(temp, full[..^1]);
        Assert.Contains($"truncated at offset {full.Length - 1}", noStop);
    }

    [TestMethod]
    public void Read_WrongShape_ThrowsNamingCounts()
    {
        using var temp = new TempFolder();
        var pickle = new Bytes().U8(0x80, 4, ']', 'C', 1, 1, 'a', ']', 0x88, 'a', 0x86, '.').ToArray();
        Assert.Contains("1 images for 1 pairs", ReadBytesError(temp, pickle));
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    public void Write_Protocol_ReadsBackSamePairs(int protocol)
    {
        using var temp = new TempFolder();
        var rng = new Random(protocol);
        var pairs = Enumerable.Range(0, 600).Select(k =>
        {
            var a = new byte[k % 7 == 0 ? 300 : k % 5];
            var b = new byte[(k * 13) % 260];
            rng.NextBytes(a);
            rng.NextBytes(b);
            return new VerificationPair(a, b, k % 3 == 0);
        }).ToList();
        new VerificationPairs(pairs).Write(temp.File("w.bin"), protocol);
        var bytes = File.ReadAllBytes(temp.File("w.bin"));
        CollectionAssert.AreEqual(new byte[] { 0x80, (byte)protocol }, bytes[..2]);
        Assert.AreEqual(protocol == 2, System.Text.Encoding.Latin1.GetString(bytes).Contains("_codecs\nencode\n"));
        var read = VerificationPairs.Read(temp.File("w.bin"));
        Assert.AreEqual(600, read.Count);
        for (int k = 0; k < pairs.Count; k++)
        {
            CollectionAssert.AreEqual(pairs[k].ImageA, read.Pairs[k].ImageA, $"pair {k} A");
            CollectionAssert.AreEqual(pairs[k].ImageB, read.Pairs[k].ImageB, $"pair {k} B");
            Assert.AreEqual(pairs[k].IsSame, read.Pairs[k].IsSame);
        }
    }

    [TestMethod]
    public void ToDataView_PngPairs_DecodesImagesAndIsSame()
    {
        using var temp = new TempFolder();
        new VerificationPairs([
            new VerificationPair(TestImages.Png(3, 2, 1), TestImages.Png(4, 2, 2), true),
            new VerificationPair(TestImages.Png(5, 2, 3), TestImages.Png(6, 2, 4), false),
        ]).Write(temp.File("p.bin"));
        var view = VerificationPairs.Read(temp.File("p.bin")).ToDataView();
        Assert.AreEqual(2L, view.GetRowCount());
        var rows = new List<(int, int, bool)>();
        using var cursor = view.GetRowCursor(view.Schema);
        var a = cursor.GetGetter<MLImage>(view.Schema["ImageA"]);
        var b = cursor.GetGetter<MLImage>(view.Schema["ImageB"]);
        var same = cursor.GetGetter<bool>(view.Schema["IsSame"]);
        MLImage imageA = null!, imageB = null!;
        bool isSame = false;
        while (cursor.MoveNext())
        {
            a(ref imageA);
            b(ref imageB);
            same(ref isSame);
            rows.Add((imageA.Width, imageB.Width, isSame));
            Assert.AreEqual(2, imageA.Height);
        }
        imageA.Dispose();
        imageB.Dispose();
        CollectionAssert.AreEqual(new[] { (3, 4, true), (5, 6, false) }, rows);
    }

    private static string ReadBytesError(TempFolder temp, byte[] pickle)
        => Assert.ThrowsExactly<InvalidDataException>(() => ReadBytes(temp, pickle)).Message;
}

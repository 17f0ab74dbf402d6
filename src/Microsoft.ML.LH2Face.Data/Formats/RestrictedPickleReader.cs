using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Microsoft.ML.LH2Face.Data.Formats;

/// <summary>
/// A pickle reader that builds data only: lists (List&lt;object&gt;), tuples (object[]), bytes (byte[]), str
/// (string), bool and int (long). It accepts the opcodes that plain nested containers of these need and exactly
/// two calls: _codecs.encode(str, 'latin1'), which is how Python 3 writes bytes at protocols 0 to 2, and
/// __builtin__.bytes(), its empty bytes. Protocols 0 and 1 (text memo, UNICODE lines) are read like 2 to 5. Every other
/// global, call or object-building opcode is refused, because unpickling those can run arbitrary code.
/// Written by hand: no .NET library reads pickles with such a whitelist.
/// </summary>
internal sealed class RestrictedPickleReader
{
    private const int MaxProtocol = 5;

    private static readonly Dictionary<byte, string> OpcodeNames = new()
    {
        [0x28] = "MARK", [0x2e] = "STOP", [0x30] = "POP", [0x31] = "POP_MARK", [0x32] = "DUP", [0x46] = "FLOAT",
        [0x49] = "INT", [0x4a] = "BININT", [0x4b] = "BININT1", [0x4c] = "LONG", [0x4d] = "BININT2", [0x4e] = "NONE",
        [0x50] = "PERSID", [0x51] = "BINPERSID", [0x52] = "REDUCE", [0x53] = "STRING", [0x54] = "BINSTRING",
        [0x55] = "SHORT_BINSTRING", [0x56] = "UNICODE", [0x58] = "BINUNICODE", [0x61] = "APPEND", [0x62] = "BUILD",
        [0x63] = "GLOBAL", [0x64] = "DICT", [0x7d] = "EMPTY_DICT", [0x65] = "APPENDS", [0x67] = "GET", [0x68] = "BINGET",
        [0x69] = "INST", [0x6a] = "LONG_BINGET", [0x6c] = "LIST", [0x5d] = "EMPTY_LIST", [0x6f] = "OBJ", [0x70] = "PUT",
        [0x71] = "BINPUT", [0x72] = "LONG_BINPUT", [0x73] = "SETITEM", [0x74] = "TUPLE", [0x29] = "EMPTY_TUPLE",
        [0x75] = "SETITEMS", [0x47] = "BINFLOAT", [0x80] = "PROTO", [0x81] = "NEWOBJ", [0x82] = "EXT1", [0x83] = "EXT2",
        [0x84] = "EXT4", [0x85] = "TUPLE1", [0x86] = "TUPLE2", [0x87] = "TUPLE3", [0x88] = "NEWTRUE", [0x89] = "NEWFALSE",
        [0x8a] = "LONG1", [0x8b] = "LONG4", [0x42] = "BINBYTES", [0x43] = "SHORT_BINBYTES", [0x8c] = "SHORT_BINUNICODE",
        [0x8d] = "BINUNICODE8", [0x8e] = "BINBYTES8", [0x8f] = "EMPTY_SET", [0x90] = "ADDITEMS", [0x91] = "FROZENSET",
        [0x92] = "NEWOBJ_EX", [0x93] = "STACK_GLOBAL", [0x94] = "MEMOIZE", [0x95] = "FRAME", [0x96] = "BYTEARRAY8",
        [0x97] = "NEXT_BUFFER", [0x98] = "READONLY_BUFFER",
    };

    private readonly Stream _stream;
    private readonly string _name;
    private readonly long? _length;
    private readonly List<object> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object> _memo = [];
    private long _offset;

    private RestrictedPickleReader(Stream stream, string name)
    {
        _stream = stream;
        _name = name;
        _length = stream.CanSeek ? stream.Length - stream.Position : null;
    }

    /// <summary>The marker object standing for the allowed global _codecs.encode.</summary>
    private sealed class CodecsEncode
    {
        public static readonly CodecsEncode Instance = new();
    }

    /// <summary>The marker object standing for the allowed global __builtin__.bytes (builtins.bytes), called with no argument.</summary>
    private sealed class BytesType
    {
        public static readonly BytesType Instance = new();
    }

    /// <summary>Reads one pickle from <paramref name="stream"/>; <paramref name="name"/> (the file) appears in errors.</summary>
    /// <exception cref="InvalidDataException">The pickle is truncated, malformed, or uses a refused opcode or global.</exception>
    public static object Read(Stream stream, string name) => new RestrictedPickleReader(stream, name).Run();

    private object Run()
    {
        while (true)
        {
            long at = _offset;
            byte op = ReadByte("an opcode");
            switch (op)
            {
                case 0x80: // PROTO
                    int protocol = ReadByte("the protocol number");
                    if (protocol > MaxProtocol)
                    {
                        throw Error(at, $"unsupported pickle protocol {protocol}");
                    }
                    break;
                case 0x95: // FRAME: a size hint only
                    ReadBytes(8, "the frame size");
                    break;
                case 0x28: // MARK
                    _marks.Add(_stack.Count);
                    break;
                case 0x5d: // EMPTY_LIST
                    _stack.Add(new List<object>());
                    break;
                case 0x29: // EMPTY_TUPLE
                    _stack.Add(Array.Empty<object>());
                    break;
                case 0x6c: // LIST
                    _stack.Add(new List<object>(PopMark(at, op)));
                    break;
                case 0x74: // TUPLE
                    _stack.Add(PopMark(at, op));
                    break;
                case 0x85: // TUPLE1
                case 0x86: // TUPLE2
                case 0x87: // TUPLE3
                    int n = op - 0x84;
                    RequireStack(at, op, n);
                    var tuple = _stack.GetRange(_stack.Count - n, n).ToArray();
                    _stack.RemoveRange(_stack.Count - n, n);
                    _stack.Add(tuple);
                    break;
                case 0x61: // APPEND
                    RequireStack(at, op, 2);
                    var item = Pop();
                    TopList(at, op).Add(item);
                    break;
                case 0x65: // APPENDS
                    var items = PopMark(at, op);
                    TopList(at, op).AddRange(items);
                    break;
                case 0x55: // SHORT_BINSTRING (Python 2 str: bytes)
                case 0x43: // SHORT_BINBYTES
                    _stack.Add(ReadBytes(ReadByte("a length"), "string bytes"));
                    break;
                case 0x54: // BINSTRING
                case 0x42: // BINBYTES
                    _stack.Add(ReadBytes(ReadLength(4, at), "string bytes"));
                    break;
                case 0x8e: // BINBYTES8
                    _stack.Add(ReadBytes(ReadLength(8, at), "bytes"));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    _stack.Add(ReadUtf8(ReadByte("a length"), at));
                    break;
                case 0x58: // BINUNICODE
                    _stack.Add(ReadUtf8(ReadLength(4, at), at));
                    break;
                case 0x8d: // BINUNICODE8
                    _stack.Add(ReadUtf8(ReadLength(8, at), at));
                    break;
                case 0x88: // NEWTRUE
                    _stack.Add(true);
                    break;
                case 0x89: // NEWFALSE
                    _stack.Add(false);
                    break;
                case 0x49: // INT: text; "01"/"00" are Python 2's True/False before protocol 2
                    var text = ReadLine(at);
                    _stack.Add(text switch
                    {
                        "01" => true,
                        "00" => false,
                        _ => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : throw Error(at, $"INT holds \"{text}\", not an integer"),
                    });
                    break;
                case 0x4a: // BININT
                    _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, "an integer")));
                    break;
                case 0x4b: // BININT1
                    _stack.Add((long)ReadByte("an integer"));
                    break;
                case 0x4d: // BININT2
                    _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, "an integer")));
                    break;
                case 0x71: // BINPUT
                    Memoize(ReadByte("a memo index"), at);
                    break;
                case 0x72: // LONG_BINPUT
                    Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, "a memo index")), at);
                    break;
                case 0x94: // MEMOIZE
                    Memoize(_memo.Count, at);
                    break;
                case 0x68: // BINGET
                    Recall(ReadByte("a memo index"), at);
                    break;
                case 0x6a: // LONG_BINGET
                    Recall(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, "a memo index")), at);
                    break;
                case 0x70: // PUT (protocols 0, 1): decimal memo index on a text line
                    Memoize(ReadDecimal(at, op), at);
                    break;
                case 0x67: // GET (protocols 0, 1)
                    Recall(ReadDecimal(at, op), at);
                    break;
                case 0x56: // UNICODE (protocol 0): raw-unicode-escape text up to the end of the line
                    _stack.Add(RawUnicodeEscape(ReadLongLine(at), at));
                    break;
                case 0x4e: // NONE
                    _stack.Add(None.Instance);
                    break;
                case 0x63: // GLOBAL: only _codecs.encode and __builtin__.bytes
                    string module = ReadLine(at), global = ReadLine(at);
                    _stack.Add((module, global) switch
                    {
                        ("_codecs", "encode") => CodecsEncode.Instance,
                        ("__builtin__" or "builtins", "bytes") => BytesType.Instance,
                        _ => throw Refuse(at, op, $" naming '{module}.{global}'"),
                    });
                    break;
                case 0x52: // REDUCE: only _codecs.encode(str, 'latin1') and bytes()
                    RequireStack(at, op, 2);
                    if (_stack[^2] is BytesType && _stack[^1] is object[] { Length: 0 })
                    {
                        Pop();
                        Pop();
                        _stack.Add(Array.Empty<byte>());
                        break;
                    }
                    if (_stack[^2] is not CodecsEncode || _stack[^1] is not object[] { Length: 2 } args || args[0] is not string latin || args[1] is not "latin1")
                    {
                        throw Refuse(at, op, " (only _codecs.encode(str, 'latin1') and bytes() are accepted)");
                    }
                    Pop();
                    Pop();
                    _stack.Add(Latin1(latin, at));
                    break;
                case 0x2e: // STOP
                    if (_stack.Count != 1 || _marks.Count != 0)
                    {
                        throw Error(at, $"STOP with {_stack.Count} values and {_marks.Count} open marks on the stack (expected one value)");
                    }
                    if (_stack[0] is CodecsEncode or BytesType)
                    {
                        throw Refuse(at, 0x63, " left uncalled");
                    }
                    return _stack[0];
                default:
                    throw Refuse(at, op, string.Empty);
            }
        }
    }

    /// <summary>Python's None (a value of its own so that it never passes for a missing entry).</summary>
    internal sealed class None
    {
        public static readonly None Instance = new();
    }

    private long ReadDecimal(long at, byte op)
    {
        var text = ReadLine(at);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long index)
            ? index
            : throw Error(at, $"{OpcodeNames[op]} holds \"{text}\", not a memo index");
    }

    /// <summary>
    /// Decodes Python's raw-unicode-escape, as pickle protocol 0 writes str: every byte is the latin-1 character,
    /// except \uXXXX and \UXXXXXXXX (pickle escapes backslash, NUL, CR, LF and 0x1a that way).
    /// </summary>
    private string RawUnicodeEscape(byte[] line, long at)
    {
        var text = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            int digits = line[i] == (byte)'\\' && i + 1 < line.Length ? line[i + 1] switch { (byte)'u' => 4, (byte)'U' => 8, _ => 0 } : 0;
            if (digits == 0)
            {
                text.Append((char)line[i]);
                continue;
            }
            if (i + 2 + digits > line.Length
                || !int.TryParse(Encoding.ASCII.GetString(line, i + 2, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
                || code is < 0 or > 0x10ffff)
            {
                throw Error(at, $"UNICODE holds a malformed \\{(char)line[i + 1]} escape at character {i}");
            }
            text.Append(char.ConvertFromUtf32(code));
            i += 1 + digits;
        }
        return text.ToString();
    }

    /// <summary>A text line of any length (UNICODE carries whole images), without its newline.</summary>
    private byte[] ReadLongLine(long at)
    {
        var line = new MemoryStream();
        while (true)
        {
            byte b = ReadByte("a text line");
            if (b == (byte)'\n')
            {
                return line.ToArray();
            }
            line.WriteByte(b);
        }
    }

    private Exception Refuse(long at, byte op, string detail)
        => new InvalidDataException(
            $"'{_name}': this pickle reader refuses opcode {(OpcodeNames.TryGetValue(op, out var name) ? name : "unknown")} (0x{op:x2}){detail} at offset {at}: this reader only reads data, never objects.");

    private InvalidDataException Error(long at, string what) => new($"'{_name}' at offset {at}: {what}.");

    private object Pop()
    {
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private void RequireStack(long at, byte op, int count)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count - floor < count)
        {
            throw Error(at, $"{OpcodeNames[op]} needs {count} values on the stack");
        }
    }

    private object[] PopMark(long at, byte op)
    {
        if (_marks.Count == 0)
        {
            throw Error(at, $"{OpcodeNames[op]} without a MARK");
        }
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private List<object> TopList(long at, byte op)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor || _stack[^1] is not List<object> list)
        {
            throw Error(at, $"{OpcodeNames[op]} needs a list below its items");
        }
        return list;
    }

    private void Memoize(long index, long at)
    {
        if (_stack.Count == 0)
        {
            throw Error(at, "memo store with an empty stack");
        }
        _memo[index] = _stack[^1];
    }

    private void Recall(long index, long at)
        => _stack.Add(_memo.TryGetValue(index, out var value) ? value : throw Error(at, $"memo index {index} was never stored"));

    private byte[] Latin1(string text, long at)
    {
        var bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] > 0xff)
            {
                throw Error(at, $"_codecs.encode latin1 argument holds character U+{(int)text[i]:X4} at index {i}, outside latin-1");
            }
            bytes[i] = (byte)text[i];
        }
        return bytes;
    }

    private int ReadLength(int size, long at)
    {
        var bytes = ReadBytes(size, "a length");
        long length = size == 4 ? BinaryPrimitives.ReadInt32LittleEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (length < 0 || length > Array.MaxLength)
        {
            throw Error(at, $"length {length} is negative or too large");
        }
        return (int)length;
    }

    private string ReadUtf8(int length, long at)
    {
        var bytes = ReadBytes(length, "string bytes");
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(at, $"string is not valid UTF-8 ({e.Message})");
        }
    }

    private string ReadLine(long at)
    {
        var builder = new StringBuilder();
        while (true)
        {
            byte b = ReadByte("a text line");
            if (b == (byte)'\n')
            {
                return builder.ToString();
            }
            if (builder.Length > 256)
            {
                throw Error(at, "text argument longer than 256 characters");
            }
            builder.Append((char)b);
        }
    }

    private byte ReadByte(string what)
    {
        int b = _stream.ReadByte();
        if (b < 0)
        {
            throw new InvalidDataException($"'{_name}' is truncated at offset {_offset}: expected {what}, found the end of the file.");
        }
        _offset++;
        return (byte)b;
    }

    private byte[] ReadBytes(int count, string what)
    {
        if (_length is long length && _offset + count > length)
        {
            throw new InvalidDataException($"'{_name}' is truncated at offset {_offset}: {what} need {count} bytes but only {length - _offset} remain.");
        }
        var buffer = new byte[count];
        int read = _stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        if (read < count)
        {
            throw new InvalidDataException($"'{_name}' is truncated at offset {_offset + read}: {what} need {count} bytes, the file ended after {read}.");
        }
        _offset += count;
        return buffer;
    }
}

namespace GeoSync.Engine.Rpc;

/// <summary>How an opcode's operand is laid out, which is all a reader needs to find the end of a frame.</summary>
internal enum OperandLayout
{
    None,
    OneByte,
    TwoBytes,
    FourBytes,
    EightBytes,
    /// <summary>A u8 length followed by that many bytes.</summary>
    ByteLengthPrefixed,
    /// <summary>A u32 little-endian length followed by that many bytes.</summary>
    IntLengthPrefixed,
    /// <summary>Text up to and including <c>\n</c>.</summary>
    Line,
    /// <summary>Two <c>\n</c>-terminated lines (GLOBAL's module and name).</summary>
    TwoLines,
}

/// <summary>The pickle opcodes a reader accepts and the names of the ones refused on purpose (docs/protocol.md, "Opcodes and safe decoding").</summary>
internal static class PickleOpcodes
{
    public const byte Proto = 0x80;
    public const byte Stop = (byte)'.';
    public const byte Mark = (byte)'(';
    public const byte Tuple = (byte)'t';
    public const byte EmptyTuple = (byte)')';
    public const byte Tuple1 = 0x85;
    public const byte Tuple2 = 0x86;
    public const byte Tuple3 = 0x87;
    public const byte EmptyList = (byte)']';
    public const byte Append = (byte)'a';
    public const byte Appends = (byte)'e';
    public const byte List = (byte)'l';
    public const byte EmptyDict = (byte)'}';
    public const byte SetItem = (byte)'s';
    public const byte SetItems = (byte)'u';
    public const byte Dict = (byte)'d';
    public const byte None = (byte)'N';
    public const byte NewTrue = 0x88;
    public const byte NewFalse = 0x89;
    public const byte Int = (byte)'I';
    public const byte BinInt = (byte)'J';
    public const byte BinInt1 = (byte)'K';
    public const byte BinInt2 = (byte)'M';
    public const byte Long = (byte)'L';
    public const byte Long1 = 0x8a;
    public const byte Long4 = 0x8b;
    public const byte Float = (byte)'F';
    public const byte BinFloat = (byte)'G';
    public const byte ShortBinString = (byte)'U';
    public const byte BinString = (byte)'T';
    public const byte String = (byte)'S';
    public const byte BinUnicode = (byte)'X';
    public const byte Unicode = (byte)'V';
    public const byte Put = (byte)'p';
    public const byte BinPut = (byte)'q';
    public const byte LongBinPut = (byte)'r';
    public const byte Get = (byte)'g';
    public const byte BinGet = (byte)'h';
    public const byte LongBinGet = (byte)'j';
    public const byte Global = (byte)'c';
    public const byte Reduce = (byte)'R';
    public const byte Build = (byte)'b';

    /// <summary>The operand layout of an accepted opcode; null for every opcode a RePCe reader refuses.</summary>
    public static OperandLayout? Layout(byte opcode) => opcode switch
    {
        Proto or BinInt1 or BinPut or BinGet => OperandLayout.OneByte,
        BinInt2 => OperandLayout.TwoBytes,
        BinInt or LongBinPut or LongBinGet => OperandLayout.FourBytes,
        BinFloat => OperandLayout.EightBytes,
        Long1 or ShortBinString => OperandLayout.ByteLengthPrefixed,
        Long4 or BinString or BinUnicode => OperandLayout.IntLengthPrefixed,
        Int or Long or Float or String or Unicode or Put or Get => OperandLayout.Line,
        Global => OperandLayout.TwoLines,
        Stop or Mark or Tuple or EmptyTuple or Tuple1 or Tuple2 or Tuple3 or EmptyList or Append or Appends or List
            or EmptyDict or SetItem or SetItems or Dict or None or NewTrue or NewFalse or Reduce or Build => OperandLayout.None,
        _ => null,
    };

    /// <summary>A readable description of a refused opcode for the protocol error message.</summary>
    public static string Describe(byte opcode)
    {
        var name = opcode switch
        {
            (byte)'i' => "INST",
            (byte)'o' => "OBJ",
            0x81 => "NEWOBJ",
            0x92 => "NEWOBJ_EX",
            0x93 => "STACK_GLOBAL",
            (byte)'P' => "PERSID",
            (byte)'Q' => "BINPERSID",
            0x82 => "EXT1",
            0x83 => "EXT2",
            0x84 => "EXT4",
            0x8c => "SHORT_BINUNICODE",
            0x8d => "BINUNICODE8",
            0x8e => "BINBYTES8",
            0x8f => "EMPTY_SET",
            0x90 => "ADDITEMS",
            0x91 => "FROZENSET",
            0x94 => "MEMOIZE",
            0x95 => "FRAME",
            0x96 => "BYTEARRAY8",
            0x97 => "NEXT_BUFFER",
            0x98 => "READONLY_BUFFER",
            (byte)'B' => "BINBYTES",
            (byte)'C' => "SHORT_BINBYTES",
            (byte)'0' => "POP",
            (byte)'1' => "POP_MARK",
            (byte)'2' => "DUP",
            _ => null,
        };
        return name is null ? $"unknown opcode 0x{opcode:x2}" : $"opcode {name} (0x{opcode:x2}) is not allowed";
    }
}

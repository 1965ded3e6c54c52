using System.Buffers.Binary;
using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Tests.Rpc;

/// <summary>
/// Runs python3 as the reference implementation of pickle. Both sides render values in one canonical text form
/// (<see cref="Canon"/> here, <see cref="CanonPython"/> there) so results compare as strings.
/// </summary>
internal static class PythonOracle
{
    /// <summary>The Python twin of <see cref="Canon"/>; every script that prints values starts with it.</summary>
    public const string CanonPython = """
        import os, pickle, struct, sys
        def canon(v):
            if v is None: return 'N'
            if v is True: return 'T'
            if v is False: return 'F'
            if isinstance(v, int): return 'i%d' % v
            if isinstance(v, float): return 'f' + struct.pack('>d', v).hex()
            if isinstance(v, str): return 'u' + v.encode('utf-16-le', 'surrogatepass').hex()
            if isinstance(v, bytes): return 'b' + v.hex()
            if isinstance(v, os.stat_result):
                fields, extras = v.__reduce__()[1]
                return 'S' + canon(fields) + canon(extras)
            if isinstance(v, tuple): return '(' + ','.join(map(canon, v)) + ')'
            if isinstance(v, list): return '[' + ','.join(map(canon, v)) + ']'
            if isinstance(v, dict): return '{' + ','.join(sorted(canon(k) + ':' + canon(x) for k, x in v.items())) + '}'
            if isinstance(v, (set, frozenset)): return '<' + ','.join(sorted(map(canon, v))) + '>'
            if isinstance(v, BaseException):
                name = 'OSError' if isinstance(v, OSError) else type(v).__name__
                return 'E' + name + canon(v.__reduce__()[1])
            raise TypeError(type(v))

        """;

    /// <summary>Runs a python3 script with the given standard input and returns its standard output.</summary>
    public static string Run(string script, string stdin = "", string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.Environment["PYTHONHASHSEED"] = "0";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            Assert.Fail("python3 did not finish within 60 s");
        }
        Assert.True(process.ExitCode == 0, $"python3 exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>
    /// The canonical form of a decoded value. With a dialect, strings are shown as that peer will see them: a Python 2
    /// peer gets byte strings, a Python 3 peer gets text (bytes through surrogateescape).
    /// </summary>
    public static string Canon(object? value, PeerDialect? seenBy = null) => value switch
    {
        null => "N",
        true => "T",
        false => "F",
        long or int or BigInteger or byte or sbyte or short or ushort or uint or ulong => "i" + Convert.ToString(value, CultureInfo.InvariantCulture),
        double d => "f" + DoubleHex(d),
        float f => "f" + DoubleHex(f),
        string s when seenBy == PeerDialect.Python2 => "b" + Convert.ToHexStringLower(PyText.EncodeSurrogateEscape(s)),
        string s => "u" + Utf16Hex(s),
        byte[] b when seenBy == PeerDialect.Python3 => "u" + Utf16Hex(PyText.DecodeSurrogateEscape(b)),
        byte[] b => "b" + Convert.ToHexStringLower(b),
        PyStatResult stat => "S" + Canon(stat.Fields, seenBy) + Canon(stat.Extras, seenBy),
        PyTuple t => "(" + string.Join(",", t.Select(x => Canon(x, seenBy))) + ")",
        PyException e => "E" + (e.TypeName is "IOError" or "EnvironmentError" ? "OSError" : e.TypeName) + Canon(e.Args, seenBy),
        IDictionary dict => "{" + string.Join(",", dict.Keys.Cast<object?>().Select(k => Canon(k, seenBy) + ":" + Canon(dict[k!], seenBy)).Order(StringComparer.Ordinal)) + "}",
        IReadOnlyDictionary<object, object?> dict => "{" + string.Join(",", dict.Select(p => Canon(p.Key, seenBy) + ":" + Canon(p.Value, seenBy)).Order(StringComparer.Ordinal)) + "}",
        IEnumerable set when set.GetType().GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ISet<>)) =>
            "<" + string.Join(",", set.Cast<object?>().Select(x => Canon(x, seenBy)).Order(StringComparer.Ordinal)) + ">",
        IList list => "[" + string.Join(",", list.Cast<object?>().Select(x => Canon(x, seenBy))) + "]",
        _ => throw new ArgumentException($"no canonical form for {value.GetType()}"),
    };

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] Unhex(string hex) => Convert.FromHexString(hex);

    private static string DoubleHex(double value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
        return Convert.ToHexStringLower(bytes);
    }

    private static string Utf16Hex(string text)
    {
        var builder = new StringBuilder(text.Length * 4);
        foreach (var c in text) builder.Append(CultureInfo.InvariantCulture, $"{(byte)c:x2}{(byte)(c >> 8):x2}");
        return builder.ToString();
    }
}

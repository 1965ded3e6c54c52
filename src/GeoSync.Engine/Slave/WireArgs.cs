using System.Numerics;
using System.Text;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>Reads call arguments that arrive as plain wire data, and builds the Python exceptions a bad call earns.</summary>
internal static class WireArgs
{
    public static void Count(string method, IReadOnlyList<object?> args, int min, int max = -1)
    {
        if (max < 0) max = min;
        if (args.Count >= min && args.Count <= max) return;
        var expected = min == max ? $"exactly {min}" : max == int.MaxValue ? $"at least {min}" : $"from {min} to {max}";
        throw RepceCallException.TypeError($"{method}() takes {expected} argument{(min == 1 && max == 1 ? "" : "s")} ({args.Count} given)");
    }

    /// <summary>A path argument's bytes: text from Python 3 peers, a byte string from Python 2 peers.</summary>
    public static byte[] Path(string method, object? value)
    {
        var bytes = Bytes(method, "path", value);
        // The original indexed path[0] before anything else, so an empty path was an IndexError.
        if (bytes.Length == 0) throw IndexError("string index out of range");
        return bytes;
    }

    public static byte[] Bytes(string method, string what, object? value) => value switch
    {
        byte[] b => b,
        string s => Encode(s),
        _ => throw RepceCallException.TypeError($"{method}(): {what} must be a string, not {TypeName(value)}"),
    };

    public static string Text(string method, string what, object? value) => value switch
    {
        string s => s,
        byte[] b => WireText.ToText(b),
        _ => throw RepceCallException.TypeError($"{method}(): {what} must be a string, not {TypeName(value)}"),
    };

    /// <summary>Any integer the codec may produce (Python's int/long/bool; Python 2 floats where struct truncated them).</summary>
    public static long Integer(string method, string what, object? value, bool allowFloat = false) => value switch
    {
        long l => l,
        int i => i,
        bool b => b ? 1 : 0,
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        double d when allowFloat && double.IsFinite(d) && Math.Abs(d) < 1e18 => (long)Math.Truncate(d),
        _ => throw RepceCallException.TypeError($"{method}(): {what} must be an integer, not {PyRepr.Format(value)}"),
    };

    public static IReadOnlyList<object?> Sequence(string method, string what, object? value, int count) =>
        value is IReadOnlyList<object?> items && items.Count == count
            ? items
            : throw RepceCallException.TypeError($"{method}(): {what} must be a sequence of {count} items, not {PyRepr.Format(value)}");

    /// <summary>The items of a list, tuple or set argument.</summary>
    public static IEnumerable<object?> Items(string method, string what, object? value) => value switch
    {
        IReadOnlyList<object?> list => list,
        HashSet<object> set => set,
        _ => throw RepceCallException.TypeError($"{method}(): {what} must be a list, tuple or set, not {TypeName(value)}"),
    };

    public static IReadOnlyDictionary<object, object?> Dict(string method, string what, object? value) =>
        value as IReadOnlyDictionary<object, object?>
            ?? throw RepceCallException.TypeError($"{method}(): {what} must be a dict, not {TypeName(value)}");

    /// <summary>Looks a key up by its text, whether the peer sent keys as text or as byte strings.</summary>
    public static bool TryGet(IReadOnlyDictionary<object, object?> dict, string key, out object? value)
    {
        if (dict.TryGetValue(key, out value)) return true;
        foreach (var (k, v) in dict)
        {
            if (k is byte[] b && b.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(key)))
            {
                value = v;
                return true;
            }
        }
        value = null;
        return false;
    }

    /// <summary>Python truthiness of a wire value.</summary>
    public static bool IsTruthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        int i => i != 0,
        BigInteger big => !big.IsZero,
        double d => d != 0,
        string s => s.Length != 0,
        byte[] b => b.Length != 0,
        System.Collections.ICollection c => c.Count != 0,
        IReadOnlyCollection<object?> c => c.Count != 0,
        _ => true,
    };

    public static RepceCallException OsError(Errno errno) => OsError(NativeConvert.FromErrno(errno));

    public static RepceCallException OsError(int errno) =>
        RepceCallException.OsError(errno, NativeConvert.TryToErrno(errno, out var e) ? Stdlib.strerror(e) : $"errno {errno}");

    public static RepceCallException IndexError(string message) => Python("exceptions", "IndexError", message);

    public static RepceCallException KeyError(string key) => Python("exceptions", "KeyError", key);

    /// <summary>What Python's struct module raises when a value does not fit its format (docs/protocol.md, "Opcodes and safe decoding").</summary>
    public static RepceCallException StructError(string message) => Python("struct", "error", message);

    public static RepceCallException RuntimeError(string message) => Python("exceptions", "RuntimeError", message);

    private static RepceCallException Python(string module, string type, string message) =>
        new(new PyException(module, type, new PyTuple(message)));

    private static byte[] Encode(string text)
    {
        try
        {
            return WireText.ToBytes(text);
        }
        catch (GeoSyncException ex)
        {
            throw RepceCallException.ValueError(ex.Message);
        }
    }

    private static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        long or int or BigInteger => "int",
        bool => "bool",
        double => "float",
        PyTuple => "tuple",
        System.Collections.IDictionary => "dict",
        System.Collections.IList => "list",
        _ => value.GetType().Name,
    };

    /// <summary>
    /// The directory a listing call (<c>lstat_entries</c>, <c>entry_types</c>) names in its one argument, opened: the path
    /// guarded (ValueError when unsafe), the final component not followed, OSError(ENOTDIR) for anything but a directory.
    /// </summary>
    public static OpenDirectory ListedDirectory(string method, PathGuard guard, IReadOnlyList<object?> args)
    {
        Count(method, args, 1);
        var path = Path(method, args[0]);
        GuardedPath target;
        try
        {
            target = guard.Resolve(path);
        }
        catch (GeoSyncPathGuardException)
        {
            throw RepceCallException.ValueError("unsafe path");
        }

        if (Syscall.lstat(target.FullPath, out var self) != 0) throw OsError(Stdlib.GetLastError());
        if (EntryStat.TypeOf(self.st_mode) != EntryType.Directory) throw OsError(Errno.ENOTDIR);
        return OpenDirectory.TryOpen(target.FullPath, out var openErrno) ?? throw OsError(openErrno);
    }
}

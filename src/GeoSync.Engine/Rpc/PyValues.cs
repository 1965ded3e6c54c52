namespace GeoSync.Engine.Rpc;

// The values RePCe carries, as plain .NET data (the pickle codec maps to and from these):
//   None -> null, bool -> bool, int -> long (System.Numerics.BigInteger beyond 64 bits), float -> double,
//   text (Python 3 str) -> string, byte string (Python 2 str, Python 3 bytes) -> byte[],
//   tuple -> PyTuple, list -> List<object?>, dict -> Dictionary<object, object?>, set -> HashSet<object>,
//   exception -> PyException, 10.x os.stat_result -> PyStatResult.

/// <summary>An immutable Python tuple with structural equality (so it can be a dict key or a set member).</summary>
public sealed class PyTuple : IReadOnlyList<object?>, IEquatable<PyTuple>
{
    private readonly object?[] _items;

    public PyTuple(params object?[] items) => _items = items;

    public static PyTuple Empty { get; } = new();

    public int Count => _items.Length;
    public object? this[int index] => _items[index];

    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(PyTuple? other)
    {
        if (other is null || other.Count != Count) return false;
        for (var i = 0; i < _items.Length; i++)
        {
            if (!PyEquality.Instance.Equals(_items[i], other._items[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is PyTuple t && Equals(t);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items) hash.Add(PyEquality.Instance.GetHashCode(item!));
        return hash.ToHashCode();
    }

    public override string ToString() => "(" + string.Join(", ", _items.Select(PyRepr.Format)) + (Count == 1 ? ",)" : ")");
}

/// <summary>An exception object that crossed the wire: its Python type name and constructor arguments.</summary>
public sealed record PyException(string Module, string TypeName, PyTuple Args)
{
    public override string ToString() => $"{TypeName}{Args}";
}

/// <summary>The 10.x <c>os.stat_result</c>: ten integer fields plus the st_* extras it carries as a dict.</summary>
public sealed record PyStatResult(PyTuple Fields, IReadOnlyDictionary<object, object?> Extras);

/// <summary>Equality that compares byte strings by content and tuples structurally, as Python does.</summary>
public sealed class PyEquality : IEqualityComparer<object>
{
    public static PyEquality Instance { get; } = new();

    public new bool Equals(object? x, object? y) => (x, y) switch
    {
        (null, null) => true,
        (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
        (null, _) or (_, null) => false,
        _ => x.Equals(y),
    };

    public int GetHashCode(object obj)
    {
        if (obj is byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
        return obj?.GetHashCode() ?? 0;
    }
}

/// <summary>Python-like rendering of wire values for logs and error messages.</summary>
public static class PyRepr
{
    public static string Format(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + s + "'",
        byte[] bytes => "b'" + System.Text.Encoding.UTF8.GetString(bytes) + "'",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        PyTuple t => t.ToString(),
        System.Collections.IDictionary dict => "{" + string.Join(", ", dict.Keys.Cast<object>().Select(k => Format(k) + ": " + Format(dict[k]))) + "}",
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Format)) + "]",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

using System.Buffers;
using System.Globalization;
using System.Text;

namespace GeoSync.Engine.Verify;

/// <summary>
/// The compact text of GeoSync's <c>verify_listing</c> and <c>checksum_listing</c> (docs/verify.md, "On the wire"): a
/// directory's entries, a round's names and their digests as one string of NUL-terminated fields instead of a pickled
/// tuple per entry, so neither side decodes or encodes a dozen pickle values per entry. No field can hold a NUL: names,
/// symlink targets and xattr names are C strings, numbers are decimal and xattr values hex.
/// </summary>
/// <remarks>
/// An entry is <c>name, st_mode, st_uid, st_gid, st_size, st_mtime_ns, st_rdev, target, xattrs</c>: <c>target</c> is a
/// symlink's target (empty for any other type); <c>xattrs</c> is <c>-</c> when they were not read, else their count
/// followed by that many name and hex value fields. A digest is the hex digest, or <c>-</c> and the errno that prevented it.
/// </remarks>
internal static class VerifyListing
{
    private const char End = '\0';
    private const char NotRead = '-';
    private const char Failed = '-';
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789ABCDEFabcdef");

    /// <summary>The listing of <paramref name="entries"/>.</summary>
    public static string Encode(IReadOnlyList<ReplicaEntry> entries)
    {
        var text = new StringBuilder(entries.Count * 48);
        foreach (var entry in entries)
        {
            text.Append(entry.Name).Append(End);
            Number(text, ModeOf(entry));
            Number(text, entry.Uid);
            Number(text, entry.Gid);
            Number(text, entry.Size);
            Number(text, entry.ModifyTimeNs);
            Number(text, entry.DeviceNumber);
            text.Append(entry.Type == ReplicaEntryType.Symlink ? entry.LinkTarget : null).Append(End);
            if (entry.Xattrs is not { } xattrs)
            {
                text.Append(NotRead).Append(End);
                continue;
            }
            Number(text, xattrs.Count);
            foreach (var (name, value) in xattrs) text.Append(name).Append(End).Append(value).Append(End);
        }
        return text.ToString();
    }

    /// <summary>The entries of a listing; <paramref name="malformed"/> builds the failure for text that is not one.</summary>
    public static List<ReplicaEntry> Decode(string listing, Func<string, Exception> malformed)
    {
        ArgumentNullException.ThrowIfNull(listing);
        var entries = new List<ReplicaEntry>();
        var fields = new Fields(listing, malformed);
        while (!fields.AtEnd)
        {
            var name = fields.Text();
            var mode = fields.Number();
            var type = LocalEntryReader.TypeOf((Mono.Unix.Native.FilePermissions)(uint)mode);
            var uid = fields.Number();
            var gid = fields.Number();
            var size = fields.Number();
            var mtime = fields.Number();
            var rdev = fields.Number();
            var target = fields.Next();
            IReadOnlyDictionary<string, string>? xattrs = null;
            var count = fields.Next();
            if (count is not [NotRead])
            {
                var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
                for (var n = fields.Count(count); n > 0; n--)
                {
                    var key = fields.Text();
                    if (!values.TryAdd(key, fields.Text())) throw malformed($"the xattr '{key}' twice");
                }
                xattrs = values;
            }
            entries.Add(new ReplicaEntry(name, type, (int)(mode & 0xFFF), uid, gid, size, mtime,
                type == ReplicaEntryType.Symlink ? target.ToString() : null, rdev)
            {
                Xattrs = xattrs,
            });
        }
        return entries;
    }

    /// <summary>A round's names as one string (names never hold a NUL).</summary>
    public static string EncodeNames(IReadOnlyList<string> names)
    {
        var text = new StringBuilder(names.Count * 16);
        foreach (var name in names) text.Append(name).Append(End);
        return text.ToString();
    }

    /// <summary>The names of <see cref="EncodeNames"/>; <paramref name="malformed"/> builds the failure for text that is not one.</summary>
    public static List<string> DecodeNames(string names, Func<string, Exception> malformed)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = new List<string>();
        var fields = new Fields(names, malformed);
        while (!fields.AtEnd) list.Add(fields.Text());
        return list;
    }

    /// <summary>The digests of a round, in the order of its names.</summary>
    public static string EncodeDigests(IReadOnlyList<EntryDigest> digests)
    {
        var text = new StringBuilder(digests.Count * 34);
        foreach (var digest in digests)
        {
            if (digest.Digest is { } hex) text.Append(hex).Append(End);
            else
            {
                text.Append(Failed);
                Number(text, digest.Errno);
            }
        }
        return text.ToString();
    }

    /// <summary>The digests of <see cref="EncodeDigests"/> for <paramref name="names"/>, one per name or the text is malformed.</summary>
    public static List<EntryDigest> DecodeDigests(string digests, IReadOnlyList<string> names, Func<string, Exception> malformed)
    {
        ArgumentNullException.ThrowIfNull(digests);
        ArgumentNullException.ThrowIfNull(names);
        var list = new List<EntryDigest>(names.Count);
        var fields = new Fields(digests, malformed);
        while (!fields.AtEnd)
        {
            if (list.Count == names.Count) throw malformed($"more than {names.Count} digests");
            var field = fields.Next();
            var name = names[list.Count];
            if (field.Length > 0 && field[0] == Failed)
            {
                list.Add(new EntryDigest(name, null, (int)fields.Parse(field[1..], 1, int.MaxValue)));
            }
            else
            {
                if (field.IsEmpty || !IsHex(field)) throw malformed($"the digest '{field}'");
                list.Add(new EntryDigest(name, field.ToString(), 0));
            }
        }
        if (list.Count != names.Count) throw malformed($"{list.Count} digests for {names.Count} names");
        return list;
    }

    /// <summary>st_mode as lstat gives it: the type's bits and the permission bits.</summary>
    public static int ModeOf(ReplicaEntry entry) => entry.Mode | entry.Type switch
    {
        ReplicaEntryType.Regular => 0x8000,
        ReplicaEntryType.Directory => 0x4000,
        ReplicaEntryType.Symlink => 0xA000,
        ReplicaEntryType.Fifo => 0x1000,
        ReplicaEntryType.Socket => 0xC000,
        ReplicaEntryType.CharacterDevice => 0x2000,
        _ => 0x6000,
    };

    private static bool IsHex(ReadOnlySpan<char> text) => !text.ContainsAnyExcept(HexDigits);

    private static void Number(StringBuilder text, long value)
    {
        Span<char> digits = stackalloc char[20];
        value.TryFormat(digits, out var length, default, CultureInfo.InvariantCulture);
        text.Append(digits[..length]).Append(End);
    }

    /// <summary>Reads NUL-terminated fields one after another.</summary>
    private ref struct Fields
    {
        private readonly Func<string, Exception> _malformed;
        private ReadOnlySpan<char> _rest;

        public Fields(string text, Func<string, Exception> malformed)
        {
            _rest = text;
            _malformed = malformed;
        }

        public readonly bool AtEnd => _rest.IsEmpty;

        public ReadOnlySpan<char> Next()
        {
            var end = _rest.IndexOf(End);
            if (end < 0) throw _malformed("a field without its terminating NUL");
            var field = _rest[..end];
            _rest = _rest[(end + 1)..];
            return field;
        }

        public string Text() => Next().ToString();

        public long Number() => Parse(Next(), long.MinValue, long.MaxValue);

        public readonly int Count(ReadOnlySpan<char> field) => (int)Parse(field, 0, int.MaxValue);

        public readonly long Parse(ReadOnlySpan<char> field, long min, long max) =>
            long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw _malformed($"the number '{field}'");
    }
}

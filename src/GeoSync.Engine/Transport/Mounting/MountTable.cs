using System.Text;

namespace GeoSync.Engine.Transport.Mounting;

/// <summary>One line of /proc/self/mountinfo: where something is mounted, its type and its source.</summary>
internal sealed record MountTableEntry(string MountPoint, string FileSystemType, string Source)
{
    public bool IsFuse => FileSystemType == "fuse" || FileSystemType.StartsWith("fuse.", StringComparison.Ordinal);

    /// <summary>The directory of the mounted file system shown at <see cref="MountPoint"/>: <c>/</c>, or a subdirectory for a bind mount.</summary>
    public string Root { get; init; } = "/";

    /// <summary>The mounted file system's device, <c>major:minor</c>: bind mounts of one file system share it.</summary>
    public string Device { get; init; } = "";
}

/// <summary>Parses the mount table text without ever touching the mounted file systems (a hung mount cannot block it).</summary>
internal static class MountTable
{
    /// <summary>The entries of /proc/self/mountinfo text, paths unescaped; malformed lines are skipped.</summary>
    public static IEnumerable<MountTableEntry> Parse(string mountInfo)
    {
        foreach (var line in mountInfo.Split('\n'))
        {
            // "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw": optional fields end at " - ".
            var fields = line.Split(' ');
            var separator = fields.Length > 6 ? Array.IndexOf(fields, "-", 6) : -1;
            if (separator < 0 || fields.Length < separator + 3)
            {
                continue;
            }

            yield return new MountTableEntry(Unescape(fields[4]), Unescape(fields[separator + 1]), Unescape(fields[separator + 2]))
            {
                Root = Unescape(fields[3]),
                Device = fields[2],
            };
        }
    }

    /// <summary>The newest mount on <paramref name="mountPoint"/> (the last line wins when mounts are stacked), or null.</summary>
    public static MountTableEntry? Find(string mountInfo, string mountPoint) =>
        Parse(mountInfo).LastOrDefault(e => e.MountPoint == mountPoint);

    // The kernel writes space, tab, newline and backslash in paths as \ooo octal escapes.
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                bytes.Add((byte)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(string s, int start) =>
        start + 3 <= s.Length && s.Skip(start).Take(3).All(c => c is >= '0' and <= '7');
}

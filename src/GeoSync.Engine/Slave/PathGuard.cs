using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>A slave path checked by <see cref="PathGuard"/>: where to operate, never following its final component.</summary>
/// <param name="Relative">The path as the peer sent it, for messages.</param>
/// <param name="FullPath">The root joined with the path's names (Mono.Posix string form).</param>
/// <param name="IsRoot">The path names the root itself (<c>.</c>, <c>./</c>, ...).</param>
/// <param name="EndsWithDot">The last component is <c>.</c>: POSIX refuses to remove or create such a path (EINVAL).</param>
public readonly record struct GuardedPath(string Relative, string FullPath, bool IsRoot, bool EndsWithDot);

/// <summary>
/// Keeps slave paths inside the slave root (docs/protocol.md, "The slave's API"): refuses empty, absolute, <c>..</c>, NUL, and any path whose ancestors
/// below the root include a symlink. A missing or non-directory ancestor is left for the call itself to report.
/// </summary>
/// <remarks>
/// The check lstat()s each ancestor, so a caller that lets the tree change between <see cref="Resolve(ReadOnlySpan{byte})"/> and its system
/// call must serialize the two (the slave server holds one lock across both). The root itself may be or contain
/// symlinks — for a GlusterFS slave it is <c>/proc/self/cwd</c> of a lazily unmounted mount.
/// </remarks>
public sealed class PathGuard
{
    private const byte Slash = (byte)'/';

    private readonly string _prefix;

    public PathGuard(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.IsPathRooted(root) ? root : Path.GetFullPath(root);
        _prefix = Root.TrimEnd('/');
    }

    public string Root { get; }

    /// <summary>The root itself in a form that follows the root's own symlinks (as a process's cwd would).</summary>
    public string RootSelf => _prefix + "/.";

    public GuardedPath Resolve(string relative) => Resolve(WireText.ToBytes(relative));

    public GuardedPath Resolve(ReadOnlySpan<byte> relative) => Resolve(relative, null);

    /// <summary>
    /// The check of <see cref="Resolve(ReadOnlySpan{byte})"/> that lstat()s only the ancestors not in <paramref name="checkedDirectories"/>, and adds
    /// each ancestor it found to be a directory: for many paths checked under one hold of the caller's lock.
    /// </summary>
    public GuardedPath Resolve(ReadOnlySpan<byte> relative, HashSet<string>? checkedDirectories)
    {
        var display = WireText.ToText(relative);
        if (relative.IsEmpty) throw new GeoSyncPathGuardException(display, "the path is empty");
        if (relative.Contains((byte)0)) throw new GeoSyncPathGuardException(display, "the path contains a NUL byte");
        if (relative[0] == Slash) throw new GeoSyncPathGuardException(display, "the path is absolute; slave paths are relative to the slave root");

        var names = new List<string>();
        var lastComponent = ReadOnlySpan<byte>.Empty;
        for (var rest = relative; ;)
        {
            var slash = rest.IndexOf(Slash);
            var component = slash < 0 ? rest : rest[..slash];
            if (component.SequenceEqual(".."u8)) throw new GeoSyncPathGuardException(display, "the path has a '..' component");
            lastComponent = component;
            if (!component.IsEmpty && !component.SequenceEqual("."u8)) names.Add(WireText.ToNative(component));
            if (slash < 0) break;
            rest = rest[(slash + 1)..];
        }

        // "a/." and "a/" resolve through a, so a is an ancestor there, not a final component.
        var finalIsName = !lastComponent.IsEmpty && !lastComponent.SequenceEqual("."u8);
        var ancestors = finalIsName ? names.Count - 1 : names.Count;
        var prefix = _prefix;
        for (var i = 0; i < ancestors; i++)
        {
            prefix += "/" + names[i];
            if (checkedDirectories?.Contains(prefix) == true) continue;
            if (Syscall.lstat(prefix, out var stat) != 0) break; // missing: the call fails with ENOENT itself
            var type = stat.st_mode & FilePermissions.S_IFMT;
            if (type == FilePermissions.S_IFLNK)
            {
                var link = WireText.ToText(WireText.FromNative(string.Join('/', names.Take(i + 1))));
                throw new GeoSyncPathGuardException(display, $"'{link}' is a symbolic link; the slave does not follow symlinks below its root");
            }
            if (type != FilePermissions.S_IFDIR) break; // the call fails with ENOTDIR itself
            checkedDirectories?.Add(prefix);
        }

        return names.Count == 0
            ? new GuardedPath(display, RootSelf, IsRoot: true, EndsWithDot: lastComponent.SequenceEqual("."u8))
            : new GuardedPath(display, _prefix + "/" + string.Join('/', names), IsRoot: false, EndsWithDot: lastComponent.SequenceEqual("."u8));
    }
}

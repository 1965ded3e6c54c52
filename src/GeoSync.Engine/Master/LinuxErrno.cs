using Mono.Unix.Native;

namespace GeoSync.Engine.Master;

/// <summary>The errno numbers the crawl reacts to, as Linux peers send them over the wire.</summary>
internal static class LinuxErrno
{
    public const int ENOENT = 2;
    public const int ENOTDIR = 20;
    public const int ENODATA = 61;
    public const int ECONNABORTED = 103;
    public const int ENOTCONN = 107;

    /// <summary>A GlusterFS mount whose bricks went away answers these; nothing below it can be trusted any more (docs/master-loop.md, "The crawl").</summary>
    public static bool MeansSessionDown(int errno) => errno is ENOTCONN or ECONNABORTED;

    /// <summary>The symbolic name, e.g. <c>ENOENT</c>, for messages.</summary>
    public static string Name(int errno) =>
        NativeConvert.TryToErrno(errno, out var value) ? value.ToString() : $"errno {errno}";
}

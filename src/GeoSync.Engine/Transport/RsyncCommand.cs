using GeoSync.Engine.Master;
using GeoSync.Engine.Slave;

namespace GeoSync.Engine.Transport;

/// <summary>Builds rsync's argv and its NUL-separated file list exactly as docs/protocol.md ("Transport") gives them.</summary>
public static class RsyncCommand
{
    /// <summary>The fixed options every sync job passes, in this order.</summary>
    public static IReadOnlyList<string> FixedOptions { get; } =
        ["-aR0", "--files-from=-", "--super", "--numeric-ids", "--no-implied-dirs"];

    /// <summary>
    /// What a run that sends whole directories adds (docs/master-loop.md, "Whole new directories"): <c>--files-from</c>
    /// turns off the <c>-r</c> of <c>-a</c>, so it is given again, and each item rsync makes or sends is printed on
    /// stdout (itemized change, size, name) for the crawl's counters and progress. Times are compared to the
    /// nanosecond: by default rsync compares whole seconds and leaves a directory or special file it just made with its
    /// own mtime when the master's falls in the same second, which the walk would find different next turn.
    /// </summary>
    public static IReadOnlyList<string> TreeOptions { get; } = ["--recursive", "--modify-window=-1", "--out-format=%i %l %n"];

    /// <summary>
    /// Filter rules that keep GlusterFS's internal names at the root (<see cref="GlusterInternalNames"/>) out of
    /// every run, anchored at the transfer root (the master root, with <c>-R</c>): a whole-directory send can never carry
    /// them, whatever it names.
    /// </summary>
    public static IReadOnlyList<string> GlusterInternalFilters { get; } =
    [
        .. GlusterInternalNames.Names.Select(name => "--filter=- /" + name),
        "--filter=- /" + GlusterInternalNames.AnonymousInodePrefix + "*",
    ];

    /// <summary>
    /// <c>&lt;rsync_command&gt; -aR0 --files-from=- --super --numeric-ids --no-implied-dirs [filters] &lt;rsync_options&gt;
    /// [--xattrs] . &lt;target args&gt;</c>; with <paramref name="wholeTrees"/>, <see cref="TreeOptions"/> follow the
    /// fixed options.
    /// </summary>
    public static IReadOnlyList<string> BuildArgv(RsyncOptions options, bool wholeTrees = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        var command = SplitWords(options.Command);
        if (command.Count == 0)
        {
            throw new ArgumentException("the rsync command is empty; give the rsync program, e.g. 'rsync'.", nameof(options));
        }

        return
        [
            .. command,
            .. FixedOptions,
            .. wholeTrees ? TreeOptions : Array.Empty<string>(),
            .. options.ExcludeGlusterInternalNames ? GlusterInternalFilters : Array.Empty<string>(),
            .. SplitWords(options.ExtraOptions),
            .. options.Xattrs ? ["--xattrs"] : Array.Empty<string>(),
            ".",
            .. options.Target.Arguments(options.SshOptions),
        ];
    }

    /// <summary>The process to start: the argv, run in the source directory, stdin and stdout as pipes.</summary>
    public static ProcessSpec BuildProcessSpec(RsyncOptions options, bool wholeTrees = false)
    {
        var argv = BuildArgv(options, wholeTrees);
        return new ProcessSpec(argv[0], argv.Skip(1).ToArray())
        {
            WorkingDirectory = options.SourceDirectory,
            RedirectStandardInput = true,
            // rsync prints informational lines on stdout; they must not leak into the caller's stdout.
            RedirectStandardOutput = true,
        };
    }

    /// <summary>
    /// rsync's stdin: each name as <c>./relative/path</c> followed by NUL. Names are wire text: UTF-8, with an
    /// undecodable byte of the file name carried as a surrogate escape (<see cref="WireText"/>).
    /// </summary>
    public static byte[] EncodeFileList(IReadOnlyCollection<string> relativePaths)
    {
        ArgumentNullException.ThrowIfNull(relativePaths);
        if (relativePaths.Count == 0)
        {
            throw new ArgumentException("no files to sync", nameof(relativePaths));
        }

        using var list = new MemoryStream();
        foreach (var path in relativePaths)
        {
            list.Write("./"u8);
            list.Write(WireText.ToBytes(NormalizeRelativePath(path)));
            list.WriteByte(0);
        }

        return list.ToArray();
    }

    /// <summary>The bytes a name occupies in the file list.</summary>
    internal static int EncodedLength(string normalizedPath) => WireText.ToBytes(normalizedPath).Length + 3;

    /// <summary>
    /// Returns <paramref name="path"/> as a clean relative name (no <c>.</c> segments, no doubled or trailing
    /// slashes); rejects absolute names, <c>..</c>, NUL, surrogates that stand for no byte, and names that denote the
    /// source directory itself.
    /// </summary>
    public static string NormalizeRelativePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"the relative path '{path.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character.", nameof(path));
        }

        try
        {
            WireText.ToBytes(path);
        }
        catch (GeoSyncException e)
        {
            throw new ArgumentException(e.Message, nameof(path), e);
        }

        if (path.StartsWith('/'))
        {
            throw new ArgumentException($"the path '{path}' is absolute; give it relative to the source directory.", nameof(path));
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
        if (segments.Contains(".."))
        {
            throw new ArgumentException($"the relative path '{path}' contains '..'; give a path inside the source directory.", nameof(path));
        }

        if (segments.Length == 0)
        {
            throw new ArgumentException($"the relative path '{path}' names the source directory itself, not a file in it.", nameof(path));
        }

        return string.Join('/', segments);
    }

    /// <summary>Splits a configured command or option string on runs of whitespace, like Python's <c>str.split()</c>.</summary>
    public static IReadOnlyList<string> SplitWords(string? text) =>
        text is null ? [] : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}

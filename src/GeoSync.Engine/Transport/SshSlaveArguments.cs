using System.Globalization;

namespace GeoSync.Engine.Transport;

/// <summary>What a listening slave is told on its command line after the remote command (docs/protocol.md, "Transport").</summary>
public sealed record SshSlaveArguments
{
    /// <summary>The slave's inactivity timeout when none is given (docs/protocol.md, "Keep-alive and the watchdog").</summary>
    public const int DefaultTimeoutSeconds = 120;

    /// <summary>The master volume's uuid (<c>--session-owner</c>), which names the slave's log; omitted when null.</summary>
    public string? SessionOwner { get; init; }

    /// <summary>rsync carries the xtime xattrs (<c>--use-rsync-xattrs</c>, root slaves only, docs/protocol.md, "Transport").</summary>
    public bool UseRsyncXattrs { get; init; }

    /// <summary>Seconds without a keep-alive after which the slave exits; 0 = never.</summary>
    public int TimeoutSeconds { get; init; } = DefaultTimeoutSeconds;

    /// <summary><c>[--session-owner &lt;uuid&gt;] [--use-rsync-xattrs] -N --listen --timeout &lt;T&gt; &lt;url&gt;</c>.</summary>
    public IReadOnlyList<string> ToArgv(string remoteSideUrl)
    {
        ArgumentException.ThrowIfNullOrEmpty(remoteSideUrl);
        ArgumentOutOfRangeException.ThrowIfNegative(TimeoutSeconds);
        var argv = new List<string>();
        if (SessionOwner is { } owner)
        {
            argv.Add("--session-owner");
            argv.Add(owner);
        }

        if (UseRsyncXattrs)
        {
            argv.Add("--use-rsync-xattrs");
        }

        argv.AddRange(["-N", "--listen", "--timeout", TimeoutSeconds.ToString(CultureInfo.InvariantCulture), remoteSideUrl]);
        return argv;
    }
}

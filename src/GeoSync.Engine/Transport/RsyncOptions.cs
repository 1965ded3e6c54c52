namespace GeoSync.Engine.Transport;

/// <summary>How to run rsync for a sync job: the configured commands and options (docs/protocol.md, "Transport") plus source and target.</summary>
/// <param name="SourceDirectory">The directory rsync runs in; file names are relative to it (the master mount root).</param>
/// <param name="Target">Where the files go.</param>
public sealed record RsyncOptions(string SourceDirectory, RsyncTarget Target)
{
    /// <summary>rsync_command: the program and any leading arguments, split on whitespace.</summary>
    public string Command { get; init; } = "rsync";

    /// <summary>rsync_options: extra options placed after the fixed ones, split on whitespace.</summary>
    public string ExtraOptions { get; init; } = "--sparse";

    /// <summary>rsync_ssh_options: options added for ssh targets only, split on whitespace.</summary>
    public string SshOptions { get; init; } = "--compress";

    /// <summary>use_rsync_xattrs: rsync copies extended attributes (the xtime) itself; needs a root receiver.</summary>
    public bool Xattrs { get; init; }

    /// <summary>
    /// Never send GlusterFS's internal names at the master root (<see cref="RsyncCommand.GlusterInternalFilters"/>): set
    /// when the master or the slave is a GlusterFS volume, like the crawl's own rule.
    /// </summary>
    public bool ExcludeGlusterInternalNames { get; init; }
}

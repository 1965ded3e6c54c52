using GeoSync.Engine.Urls;

namespace GeoSync.PowerShell;

/// <summary>One parsed gsyncd URL with its printed forms, as Resolve-GeoSyncUrl emits it.</summary>
public sealed class GeoSyncUrlInfo
{
    internal GeoSyncUrlInfo(GeoSyncUrl url, string? canonical, string? canonicalEscaped, GeoSyncUrlInfo? inner)
    {
        Url = url.Original;
        Scheme = url.Scheme;
        Host = url.Host;
        User = url.User;
        Path = url.Path;
        Volume = url.Volume;
        Normalized = url.Normalized;
        Canonical = canonical;
        CanonicalEscaped = canonicalEscaped;
        RemoteSide = url.RemoteSide;
        Inner = inner;
    }

    /// <summary>The URL as given.</summary>
    public string Url { get; }

    public UrlScheme Scheme { get; }

    /// <summary>The host of a gluster or ssh URL, as written.</summary>
    public string? Host { get; }

    /// <summary>The ssh user when one was written.</summary>
    public string? User { get; }

    /// <summary>The directory of a file URL.</summary>
    public string? Path { get; }

    /// <summary>The volume name of a gluster URL.</summary>
    public string? Volume { get; }

    /// <summary>scheme://body after desugaring, scheme in lower case.</summary>
    public string Normalized { get; }

    /// <summary>Hosts replaced by their IPv4 addresses, the ssh user made explicit; null when a host did not resolve.</summary>
    public string? Canonical { get; }

    /// <summary>The canonical form escaped for config section names; null when a host did not resolve.</summary>
    public string? CanonicalEscaped { get; }

    /// <summary>The URL the slave process is given: the normalized inner URL for ssh, otherwise the normalized URL.</summary>
    public string RemoteSide { get; }

    /// <summary>The resource behind an ssh URL (a gluster or file URL); null for other schemes.</summary>
    public GeoSyncUrlInfo? Inner { get; }
}

namespace GeoSync.Engine.Urls;

/// <summary>What canonical URLs need from the system: IPv4 addresses of hosts and the effective user's name.</summary>
public interface IHostResolver
{
    /// <summary>
    /// The first IPv4 address of <paramref name="host"/> in dotted form, as gethostbyname gives it.
    /// Throws <see cref="GeoSyncUrlException"/> (<c>failed to resolve &lt;host&gt;: &lt;reason&gt;</c>) when there is none.
    /// </summary>
    string ResolveIPv4(string host);

    /// <summary>The name of the effective user, used for ssh URLs that name no user.</summary>
    string EffectiveUserName { get; }
}

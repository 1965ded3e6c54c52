using System.Net;
using System.Net.Sockets;
using Mono.Unix.Native;

namespace GeoSync.Engine.Urls;

/// <summary>Resolves hosts through the system resolver (IPv4 only) and names the effective user from the passwd database.</summary>
public sealed class SystemHostResolver : IHostResolver
{
    internal static SystemHostResolver Shared { get; } = new();

    public string ResolveIPv4(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host, AddressFamily.InterNetwork);
        }
        catch (SocketException e)
        {
            throw Unresolvable(host, e.Message);
        }

        // gethostbyname answers with the first address; canonical URLs name config sections, so the choice must be stable.
        return addresses.Length > 0 ? addresses[0].ToString() : throw Unresolvable(host, "no IPv4 address");
    }

    public string EffectiveUserName
    {
        get
        {
            var uid = Syscall.geteuid();
            var entry = Syscall.getpwuid(uid);
            return entry?.pw_name ?? throw new GeoSyncException(
                $"effective user id {uid} has no passwd entry, so a canonical ssh URL cannot name its user. " +
                "Add the user to the passwd database or give the user explicitly (user@host).");
        }
    }

    private static GeoSyncUrlException Unresolvable(string host, string reason) =>
        new(host, $"failed to resolve {host}: {reason}");
}

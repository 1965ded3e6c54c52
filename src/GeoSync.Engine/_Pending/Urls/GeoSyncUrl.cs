using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace GeoSync.Engine.Urls;

/// <summary>The resource kinds a gsyncd URL can name.</summary>
public enum UrlScheme { File, Gluster, Ssh }

/// <summary>Turns a host name into the IPv4 address canonical URLs carry.</summary>
public interface IHostResolver
{
    string ResolveIPv4(string host);
}

/// <summary>A parsed gsyncd URL (spec §2): sugared or full form, with its printed forms.</summary>
public sealed partial class GeoSyncUrl
{
    private const string HostPattern = "[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?";
    private const string UserPattern = "[A-Za-z0-9_!#$%&'*+,\\-./=?^`{|}~]+";

    private GeoSyncUrl(string original, UrlScheme scheme, string body)
    {
        Original = original;
        Scheme = scheme;
        Normalized = $"{scheme.ToString().ToLowerInvariant()}://{body}";
        switch (scheme)
        {
            case UrlScheme.File:
                if (!body.StartsWith('/')) { throw Malformed(original, "malformed path"); }
                Path = body;
                break;
            case UrlScheme.Gluster:
                var g = Regex.Match(body, $"^({HostPattern}):(.+)$", RegexOptions.Singleline);
                if (!g.Success) { throw Malformed(original, "malformed path"); }
                Host = g.Groups[1].Value;
                Volume = g.Groups[2].Value;
                break;
            default:
                var s = Regex.Match(body, $"^(?:({UserPattern})@)?({HostPattern}):(.+)$", RegexOptions.Singleline);
                if (!s.Success) { throw Malformed(original, "malformed path"); }
                User = s.Groups[1].Success ? s.Groups[1].Value : null;
                Host = s.Groups[2].Value;
                RemoteAddress = User is null ? Host : $"{User}@{Host}";
                Inner = Parse(s.Groups[3].Value);
                break;
        }
        RemoteSide = Inner?.Normalized ?? Normalized;
    }

    public string Original { get; }
    public string Normalized { get; }
    public string RemoteSide { get; }
    public UrlScheme Scheme { get; }
    public string? Host { get; }
    public string? User { get; }
    public string? Path { get; }
    public string? Volume { get; }
    public string? RemoteAddress { get; }
    public GeoSyncUrl? Inner { get; }

    public static GeoSyncUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var full = FullForm().Match(url);
        if (!full.Success)
        {
            full = FullForm().Match(Desugar(url));
            if (!full.Success) { throw Malformed(url, "malformed url"); }
        }
        var scheme = full.Groups[1].Value.ToLowerInvariant() switch
        {
            "file" => UrlScheme.File,
            "gluster" => UrlScheme.Gluster,
            "ssh" => UrlScheme.Ssh,
            var other => throw Malformed(url, $"unknown url scheme {other}"),
        };
        return new GeoSyncUrl(url, scheme, full.Groups[2].Value);
    }

    public static bool TryParse(string url, out GeoSyncUrl? result, out GeoSyncUrlException? error)
    {
        try
        {
            result = Parse(url);
            error = null;
            return true;
        }
        catch (GeoSyncUrlException e)
        {
            result = null;
            error = e;
            return false;
        }
    }

    public string ToCanonical(IHostResolver? resolver = null)
    {
        resolver ??= DnsResolver.Instance;
        return Scheme switch
        {
            UrlScheme.File => Normalized,
            UrlScheme.Gluster => $"gluster://{resolver.ResolveIPv4(Host!)}:{Volume}",
            _ => $"ssh://{User ?? Environment.UserName}@{resolver.ResolveIPv4(Host!)}:{Inner!.ToCanonical(resolver)}",
        };
    }

    public string ToCanonicalEscaped(IHostResolver? resolver = null) => Escape(ToCanonical(resolver));

    private static string Escape(string text)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-') { sb.Append(c); }
            else if (c == ' ') { sb.Append('+'); }
            else { sb.Append('%').Append(b.ToString("X2")); }
        }
        return sb.ToString();
    }

    private static string Desugar(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            if (!url.StartsWith('/')) { throw Malformed(url, $"cannot resolve sugared url '{url}'"); }
            var parts = new List<string>();
            foreach (var part in url.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (part == ".") { continue; }
                if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } continue; }
                parts.Add(part);
            }
            return "file:///" + string.Join('/', parts);
        }
        var head = url[..colon];
        var rest = url[(colon + 1)..];
        if (head.Length == 0) { return "gluster://localhost" + url; }
        if (head.Contains('@', StringComparison.Ordinal) || rest.Contains(':', StringComparison.Ordinal) || rest.Contains('/', StringComparison.Ordinal))
        {
            return "ssh://" + url;
        }
        return "gluster://" + url;
    }

    private static GeoSyncUrlException Malformed(string url, string message) => new(url, $"{message}: '{url}'");

    [GeneratedRegex("^([A-Za-z0-9_]+)://([^ *?\\[]*)$", RegexOptions.Singleline)]
    private static partial Regex FullForm();

    private sealed class DnsResolver : IHostResolver
    {
        public static readonly DnsResolver Instance = new();

        public string ResolveIPv4(string host)
        {
            try
            {
                return Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork).ToString();
            }
            catch (Exception e) when (e is SocketException or InvalidOperationException)
            {
                throw new GeoSyncUrlException(host, $"failed to resolve {host}: {e.Message}");
            }
        }
    }
}

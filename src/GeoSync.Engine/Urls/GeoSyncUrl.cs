using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace GeoSync.Engine.Urls;

/// <summary>A parsed gsyncd URL (file, gluster or ssh), with its sugared forms resolved and its printed forms (docs/protocol.md, "URLs").</summary>
public sealed partial class GeoSyncUrl
{
    internal const string AcceptedForms =
        "Accepted forms: /dir, file:///dir, :vol, host:vol, gluster://host:vol, host::vol, [user@]host:/dir, " +
        "ssh://[user@]host:<inner url>.";

    // Written out instead of \w, which is Unicode-aware in .NET but ASCII-only in the original (Python 2 str).
    private const string HostPattern = "[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?";

    // The original's class was meant as a list but contains the range '+-/', which also admits ',' and '.'.
    private const string UserPattern = "[A-Za-z0-9_!#$%&'*+,\\-./=?^`{|}~]+";

    private GeoSyncUrl(string original, UrlScheme scheme, string body)
    {
        Original = original;
        Scheme = scheme;
        Body = body;
    }

    /// <summary>The text this URL was parsed from, exactly as given.</summary>
    public string Original { get; }

    public UrlScheme Scheme { get; }

    /// <summary>The gluster volume's host, or the ssh host (without the user).</summary>
    public string? Host { get; private init; }

    /// <summary>The ssh user, when the URL names one.</summary>
    public string? User { get; private init; }

    /// <summary>The directory of a file URL, verbatim.</summary>
    public string? Path { get; private init; }

    /// <summary>The gluster volume: everything after the first colon of the body.</summary>
    public string? Volume { get; private init; }

    /// <summary>The resource an ssh URL reaches on the remote host.</summary>
    public GeoSyncUrl? Inner { get; private init; }

    /// <summary>The ssh target, <c>user@host</c> or <c>host</c>.</summary>
    public string? RemoteAddress { get; private init; }

    /// <summary>Everything after <c>&lt;scheme&gt;://</c> once desugared.</summary>
    internal string Body { get; }

    internal string SchemeName => Scheme switch
    {
        UrlScheme.File => "file",
        UrlScheme.Gluster => "gluster",
        _ => "ssh",
    };

    /// <summary>The URL as <c>gsyncd --normalize-url</c> prints it: desugared, scheme in lower case.</summary>
    public string Normalized => $"{SchemeName}://{Body}";

    /// <summary>The single URL the slave process is given: the normalized inner URL for ssh, the normalized URL otherwise.</summary>
    public string RemoteSide => Inner?.Normalized ?? Normalized;

    public override string ToString() => Normalized;

    /// <summary>Parses a full or sugared URL; throws <see cref="GeoSyncUrlException"/> naming the input and the accepted forms.</summary>
    public static GeoSyncUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return ParseCore(url, outer: null);
    }

    public static bool TryParse(string url, [NotNullWhen(true)] out GeoSyncUrl? result, [NotNullWhen(false)] out GeoSyncUrlException? error)
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

    /// <summary>The URL as <c>gsyncd --canonicalize-url</c> prints it: hosts as IPv4 addresses, ssh with a user and a canonical inner URL.</summary>
    public string ToCanonical(IHostResolver? resolver = null) => Canonical(resolver ?? SystemHostResolver.Shared, this);

    /// <summary>The URL as <c>gsyncd --canonicalize-escape-url</c> prints it; names config sections.</summary>
    public string ToCanonicalEscaped(IHostResolver? resolver = null) => UrlEscaping.Escape(ToCanonical(resolver));

    /// <summary>
    /// Throws <c>&lt;local url&gt; cannot work with &lt;remote url&gt;</c> unless the pair can run (docs/protocol.md, "URLs"): gluster with any
    /// slave, file only as a lone slave (or, as GeoSync's directory-master extension, when <paramref name="allowDirectoryMaster"/>),
    /// ssh never locally; an ssh slave must reach a file or gluster resource.
    /// </summary>
    public static void EnsureConnectible(GeoSyncUrl master, GeoSyncUrl? slave, bool allowDirectoryMaster = false)
    {
        ArgumentNullException.ThrowIfNull(master);
        var pair = $"{master.Normalized} cannot work with {slave?.Normalized ?? "None"}";
        switch (master.Scheme)
        {
            case UrlScheme.Ssh:
                throw new GeoSyncUrlException(master.Original,
                    $"{pair}: an ssh:// URL is always the remote side. Run GeoSync on a host of the master volume and give " +
                    "it as :vol or gluster://host:vol.");
            case UrlScheme.File when slave is not null && !allowDirectoryMaster:
                throw new GeoSyncUrlException(master.Original,
                    $"{pair}: a file:// URL can only be a slave. A directory master is a GeoSync extension (hybrid crawl, " +
                    "not in gsyncd 3.3) and must be enabled explicitly; otherwise use a gluster volume as the master.");
        }

        if (slave?.Inner is { Scheme: UrlScheme.Ssh })
        {
            throw new GeoSyncUrlException(slave.Original,
                $"{pair}: the inner URL of an ssh slave must be a file or gluster resource ({slave.RemoteAddress}:/dir or " +
                $"{slave.RemoteAddress}::vol), not another ssh URL.");
        }
    }

    private string Canonical(IHostResolver resolver, GeoSyncUrl root) => Scheme switch
    {
        UrlScheme.File => Normalized,
        UrlScheme.Gluster => $"gluster://{ResolveHost(resolver, root)}:{Volume}",
        _ => $"ssh://{User ?? resolver.EffectiveUserName}@{ResolveHost(resolver, root)}:{Inner!.Canonical(resolver, root)}",
    };

    private string ResolveHost(IHostResolver resolver, GeoSyncUrl root)
    {
        try
        {
            return resolver.ResolveIPv4(Host!);
        }
        catch (GeoSyncUrlException e)
        {
            throw new GeoSyncUrlException(root.Original,
                $"{e.Message}, needed for the canonical form of '{root.Original}'. Check the host name, /etc/hosts and DNS.");
        }
    }

    private static GeoSyncUrl ParseCore(string text, Outer? outer)
    {
        var match = FullForm().Match(text);
        if (!match.Success)
        {
            match = FullForm().Match(Desugar(text, outer));
            if (!match.Success)
            {
                throw Error(text, outer, $"malformed url '{text}'",
                    "a URL is <scheme>://<body> or a short form, and may not contain a space, '*', '?' or '['.");
            }
        }

        var schemeText = match.Groups["scheme"].Value;
        var body = match.Groups["body"].Value;
        switch (schemeText.ToLowerInvariant())
        {
            case "file":
                if (!body.StartsWith('/'))
                {
                    throw Error(text, outer, $"malformed path in '{text}'", "a file URL needs an absolute directory, as in file:///dir.");
                }

                return new GeoSyncUrl(text, UrlScheme.File, body) { Path = body };

            case "gluster":
                var gluster = GlusterBody().Match(body);
                if (!gluster.Success)
                {
                    throw Error(text, outer, $"malformed path in '{text}'",
                        "a gluster URL is gluster://<host>:<volume> with a non-empty volume and a host name of lower-case " +
                        "letters, digits, '.' and '-' (no '_', no IPv6 literal, no leading or trailing '.' or '-').");
                }

                return new GeoSyncUrl(text, UrlScheme.Gluster, body)
                {
                    Host = gluster.Groups["host"].Value,
                    Volume = gluster.Groups["volume"].Value,
                };

            case "ssh":
                var ssh = SshBody().Match(body);
                if (!ssh.Success)
                {
                    throw Error(text, outer, $"malformed path in '{text}'",
                        "an ssh URL is ssh://[<user>@]<host>:<inner url> with a non-empty inner URL and a host name of " +
                        "lower-case letters, digits, '.' and '-'.");
                }

                return new GeoSyncUrl(text, UrlScheme.Ssh, body)
                {
                    RemoteAddress = ssh.Groups["addr"].Value,
                    User = ssh.Groups["user"].Success ? ssh.Groups["user"].Value : null,
                    Host = ssh.Groups["host"].Value,
                    Inner = ParseCore(ssh.Groups["inner"].Value, new Outer(text, outer)),
                };

            default:
                throw Error(text, outer, $"unknown url scheme {schemeText} in '{text}'", "the schemes are file, gluster and ssh.");
        }
    }

    /// <summary>Rewrites a short form into <c>&lt;scheme&gt;://&lt;body&gt;</c> (docs/protocol.md, "URLs"); the result is matched again by the caller.</summary>
    private static string Desugar(string text, Outer? outer)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            if (!text.StartsWith('/'))
            {
                throw Error(text, outer, $"cannot resolve sugared url '{text}'",
                    "a short form is an absolute path or contains ':' (a volume or a remote resource).");
            }

            return "file://" + NormalizeAbsolutePath(text);
        }

        var head = text[..colon];
        var rest = text[(colon + 1)..];
        if (head.Length == 0)
        {
            return "gluster://localhost" + text;
        }

        return head.Contains('@', StringComparison.Ordinal) || rest.AsSpan().IndexOfAny(':', '/') >= 0
            ? "ssh://" + text
            : "gluster://" + text;
    }

    /// <summary>
    /// posixpath.normpath of an absolute path followed by gsyncd's collapse of a leading '//' (which normpath keeps):
    /// repeated slashes and '.' go, '..' folds, and the result starts with exactly one slash.
    /// </summary>
    private static string NormalizeAbsolutePath(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                // Above the root there is nothing to climb to, so '..' there is dropped.
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>The original's message naming the failing text, where it sits in an ssh URL, why, and what is accepted.</summary>
    private static GeoSyncUrlException Error(string text, Outer? outer, string what, string why)
    {
        var where = outer is null ? "" : $" (the inner URL of '{outer.Text}')";
        return new GeoSyncUrlException(outer?.Root ?? text, $"{what}{where}: {why} {AcceptedForms}");
    }

    /// <summary>The ssh URL an inner URL was found in, so errors can name the text the user gave.</summary>
    private sealed record Outer(string Text, Outer? Parent)
    {
        public string Root => Parent?.Root ?? Text;
    }

    // \z rather than $: '$' would also accept a trailing newline, which the original's \Z (end of string only) rejects.
    [GeneratedRegex(@"^(?<scheme>[A-Za-z0-9_]+)://(?<body>[^ *?\[]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex FullForm();

    // Singleline: the volume is everything after the first colon, whatever it contains.
    [GeneratedRegex("^(?<host>" + HostPattern + "):(?<volume>.+)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex GlusterBody();

    [GeneratedRegex("^(?<addr>(?:(?<user>" + UserPattern + ")@)?(?<host>" + HostPattern + ")):(?<inner>.+)",
        RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex SshBody();
}

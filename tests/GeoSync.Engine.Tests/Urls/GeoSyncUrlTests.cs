using GeoSync.Engine.Urls;

namespace GeoSync.Engine.Tests.Urls;

public class GeoSyncUrlTests
{
    /// <summary>Answers like a root shell on a host whose /etc/hosts maps localhost and two peers.</summary>
    private sealed class FakeHostResolver : IHostResolver
    {
        private static readonly Dictionary<string, string> Hosts = new()
        {
            ["localhost"] = "127.0.0.1",
            ["127.0.0.1"] = "127.0.0.1",
            ["peer1"] = "10.0.0.1",
            ["slave.example.com"] = "192.0.2.7",
        };

        public string ResolveIPv4(string host) => Hosts.TryGetValue(host, out var ip)
            ? ip
            : throw new GeoSyncUrlException(host, $"failed to resolve {host}: Name or service not known");

        public string EffectiveUserName => "root";
    }

    // input, scheme, normalized, remote side
    public static TheoryData<string, UrlScheme, string, string> Sugars => new()
    {
        { "/data", UrlScheme.File, "file:///data", "file:///data" },
        { "//x//y/../z", UrlScheme.File, "file:///x/z", "file:///x/z" },
        { "/", UrlScheme.File, "file:///", "file:///" },
        { "//", UrlScheme.File, "file:///", "file:///" },
        { "///a/./b/", UrlScheme.File, "file:///a/b", "file:///a/b" },
        { "/a/../../b", UrlScheme.File, "file:///b", "file:///b" },
        { "/srv/slave/.", UrlScheme.File, "file:///srv/slave", "file:///srv/slave" },
        { ":gv1", UrlScheme.Gluster, "gluster://localhost:gv1", "gluster://localhost:gv1" },
        { "host:vol", UrlScheme.Gluster, "gluster://host:vol", "gluster://host:vol" },
        { "10.1.2.3:vol-1", UrlScheme.Gluster, "gluster://10.1.2.3:vol-1", "gluster://10.1.2.3:vol-1" },
        { "host::vol", UrlScheme.Ssh, "ssh://host::vol", "gluster://localhost:vol" },
        { "localhost::gv2", UrlScheme.Ssh, "ssh://localhost::gv2", "gluster://localhost:gv2" },
        { "host:/dir", UrlScheme.Ssh, "ssh://host:/dir", "file:///dir" },
        { "u@host:/dir", UrlScheme.Ssh, "ssh://u@host:/dir", "file:///dir" },
        { "geo@127.0.0.1:/srv/slave", UrlScheme.Ssh, "ssh://geo@127.0.0.1:/srv/slave", "file:///srv/slave" },
        { "a:b:c", UrlScheme.Ssh, "ssh://a:b:c", "gluster://b:c" },
        { "a:b:c:d", UrlScheme.Ssh, "ssh://a:b:c:d", "ssh://b:c:d" },
        { "geo@host:gluster://other:v", UrlScheme.Ssh, "ssh://geo@host:gluster://other:v", "gluster://other:v" },
        { "file:///srv/../x", UrlScheme.File, "file:///srv/../x", "file:///srv/../x" },
        { "FILE:///x", UrlScheme.File, "file:///x", "file:///x" },
        { "Gluster://h:v", UrlScheme.Gluster, "gluster://h:v", "gluster://h:v" },
        { "SSH://h:/x", UrlScheme.Ssh, "ssh://h:/x", "file:///x" },
        { "gluster://a:b:c", UrlScheme.Gluster, "gluster://a:b:c", "gluster://a:b:c" },
        { "ssh://h::v", UrlScheme.Ssh, "ssh://h::v", "gluster://localhost:v" },
        { "ssh://h:file:///x", UrlScheme.Ssh, "ssh://h:file:///x", "file:///x" },
        { "ssh://h:ssh://g:/x", UrlScheme.Ssh, "ssh://h:ssh://g:/x", "ssh://g:/x" },
    };

    [Theory]
    [MemberData(nameof(Sugars))]
    public void DesugarsAndPrintsNormalizedAndRemoteSide(string input, UrlScheme scheme, string normalized, string remoteSide)
    {
        var url = GeoSyncUrl.Parse(input);

        Assert.Equal(input, url.Original);
        Assert.Equal(scheme, url.Scheme);
        Assert.Equal(normalized, url.Normalized);
        Assert.Equal(remoteSide, url.RemoteSide);
        Assert.Equal(normalized, GeoSyncUrl.Parse(normalized).Normalized);
    }

    [Fact]
    public void FileUrlExposesItsPathOnly()
    {
        var url = GeoSyncUrl.Parse("//srv//slave/");

        Assert.Equal("/srv/slave", url.Path);
        Assert.Null(url.Host);
        Assert.Null(url.Volume);
        Assert.Null(url.User);
        Assert.Null(url.Inner);
        Assert.Null(url.RemoteAddress);
    }

    [Fact]
    public void GlusterVolumeIsEverythingAfterTheFirstColon()
    {
        var url = GeoSyncUrl.Parse("gluster://a:b:c");

        Assert.Equal("a", url.Host);
        Assert.Equal("b:c", url.Volume);
        Assert.Null(url.Path);
        Assert.Null(url.Inner);
    }

    [Theory]
    [InlineData("host::vol", null, "host", "host", UrlScheme.Gluster)]
    [InlineData("geo@slave.example.com:/srv/s", "geo", "slave.example.com", "geo@slave.example.com", UrlScheme.File)]
    // The user class admits ',' and '.' through the range '+-/', and a set of punctuation besides.
    [InlineData("a,b.c/d@h:/x", "a,b.c/d", "h", "a,b.c/d@h", UrlScheme.File)]
    [InlineData("!#$%&'+=^_`{|}~-@h::v", "!#$%&'+=^_`{|}~-", "h", "!#$%&'+=^_`{|}~-@h", UrlScheme.Gluster)]
    public void SshUrlSplitsUserHostAndParsesItsInnerUrl(string input, string? user, string host, string remoteAddress, UrlScheme inner)
    {
        var url = GeoSyncUrl.Parse(input);

        Assert.Equal(UrlScheme.Ssh, url.Scheme);
        Assert.Equal(user, url.User);
        Assert.Equal(host, url.Host);
        Assert.Equal(remoteAddress, url.RemoteAddress);
        Assert.NotNull(url.Inner);
        Assert.Equal(inner, url.Inner.Scheme);
        Assert.Null(url.Path);
        Assert.Null(url.Volume);
    }

    // input, canonical, canonical-escaped (root; localhost = 127.0.0.1)
    public static TheoryData<string, string, string> Canonicals => new()
    {
        { ":gv1", "gluster://127.0.0.1:gv1", "gluster%3A%2F%2F127.0.0.1%3Agv1" },
        { "localhost::gv2", "ssh://root@127.0.0.1:gluster://127.0.0.1:gv2",
            "ssh%3A%2F%2Froot%40127.0.0.1%3Agluster%3A%2F%2F127.0.0.1%3Agv2" },
        { "geo@127.0.0.1:/srv/slave", "ssh://geo@127.0.0.1:file:///srv/slave",
            "ssh%3A%2F%2Fgeo%40127.0.0.1%3Afile%3A%2F%2F%2Fsrv%2Fslave" },
        { "/srv/slave", "file:///srv/slave", "file%3A%2F%2F%2Fsrv%2Fslave" },
        { "peer1:vol", "gluster://10.0.0.1:vol", "gluster%3A%2F%2F10.0.0.1%3Avol" },
        { "geo@slave.example.com::svol", "ssh://geo@192.0.2.7:gluster://127.0.0.1:svol",
            "ssh%3A%2F%2Fgeo%40192.0.2.7%3Agluster%3A%2F%2F127.0.0.1%3Asvol" },
        { "ssh://peer1:gluster://slave.example.com:v", "ssh://root@10.0.0.1:gluster://192.0.2.7:v",
            "ssh%3A%2F%2Froot%4010.0.0.1%3Agluster%3A%2F%2F192.0.2.7%3Av" },
    };

    [Theory]
    [MemberData(nameof(Canonicals))]
    public void PrintsCanonicalAndCanonicalEscapedForms(string input, string canonical, string escaped)
    {
        var url = GeoSyncUrl.Parse(input);
        var resolver = new FakeHostResolver();

        Assert.Equal(canonical, url.ToCanonical(resolver));
        Assert.Equal(escaped, url.ToCanonicalEscaped(resolver));
        Assert.Equal(canonical, UrlEscaping.Unescape(escaped));
    }

    [Theory]
    [InlineData("nohost:vol", "failed to resolve nohost: Name or service not known")]
    [InlineData("geo@nohost:/srv", "failed to resolve nohost: Name or service not known")]
    [InlineData("localhost:gluster://nohost:v", "failed to resolve nohost: Name or service not known")]
    public void CanonicalFormNamesTheHostItCannotResolveAndTheUrl(string input, string reason)
    {
        var error = Assert.Throws<GeoSyncUrlException>(() => GeoSyncUrl.Parse(input).ToCanonical(new FakeHostResolver()));

        Assert.Equal(input, error.Url);
        Assert.StartsWith(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{input}'", error.Message, StringComparison.Ordinal);
    }

    // input, what the message must say (the original's wording, naming the failing text)
    public static TheoryData<string, string> BadInputs => new()
    {
        { "", "cannot resolve sugared url ''" },
        { "foo", "cannot resolve sugared url 'foo'" },
        { "vol/sub", "cannot resolve sugared url 'vol/sub'" },
        { "localhost:vol/sub", "cannot resolve sugared url 'vol/sub' (the inner URL of 'localhost:vol/sub')" },
        { "u@host:vol", "cannot resolve sugared url 'vol' (the inner URL of 'u@host:vol')" },
        { "gluster://bad_host:vol", "malformed path in 'gluster://bad_host:vol'" },
        { "file://rel", "malformed path in 'file://rel'" },
        { "file://", "malformed path in 'file://'" },
        { "gluster://localhost:", "malformed path in 'gluster://localhost:'" },
        { "gluster://h", "malformed path in 'gluster://h'" },
        { "ssh://@h:/x", "malformed path in 'ssh://@h:/x'" },
        { "gluster://Host:v", "malformed path in 'gluster://Host:v'" },
        { "Host:v", "malformed path in 'Host:v'" },
        { "ssh://User@HOST:/x", "malformed path in 'ssh://User@HOST:/x'" },
        { "gluster://-h:v", "malformed path in 'gluster://-h:v'" },
        { "gluster://h.:v", "malformed path in 'gluster://h.:v'" },
        { "ssh://h", "malformed path in 'ssh://h'" },
        { "ssh://h:", "malformed path in 'ssh://h:'" },
        { "ssh://a@b@c:/x", "malformed path in 'ssh://a@b@c:/x'" },
        { "ssh://h_x:/d", "malformed path in 'ssh://h_x:/d'" },
        { "é:vol", "malformed path in 'é:vol'" },
        { "ssh://h:gluster://H:v", "malformed path in 'gluster://H:v' (the inner URL of 'ssh://h:gluster://H:v')" },
        { "gluster://localhost:v*ol", "malformed url 'gluster://localhost:v*ol'" },
        { "file:///with space", "malformed url 'file:///with space'" },
        { "/with space", "malformed url '/with space'" },
        { "/x?", "malformed url '/x?'" },
        { "gluster://[::1]:v", "malformed url 'gluster://[::1]:v'" },
        { "h:/a b", "malformed url 'h:/a b'" },
        { "nfs://h:/x", "unknown url scheme nfs in 'nfs://h:/x'" },
        { "NFS://h:/x", "unknown url scheme NFS in 'NFS://h:/x'" },
        { "ssh://h:nfs://x", "unknown url scheme nfs in 'nfs://x' (the inner URL of 'ssh://h:nfs://x')" },
        { "host://x:/d", "unknown url scheme host in 'host://x:/d'" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void RejectsBadInputNamingItAndTheAcceptedForms(string input, string expected)
    {
        var error = Assert.Throws<GeoSyncUrlException>(() => GeoSyncUrl.Parse(input));

        Assert.Equal(input, error.Url);
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.EndsWith(GeoSyncUrl.AcceptedForms, error.Message, StringComparison.Ordinal);

        Assert.False(GeoSyncUrl.TryParse(input, out var result, out var tryError));
        Assert.Null(result);
        Assert.Equal(error.Message, tryError.Message);
    }

    [Fact]
    public void TryParseHandsBackTheUrl()
    {
        Assert.True(GeoSyncUrl.TryParse("host::vol", out var url, out var error));
        Assert.Null(error);
        Assert.Equal("ssh://host::vol", url.Normalized);
    }

    // master, slave (null = single-URL mode), allowDirectoryMaster
    [Theory]
    [InlineData(":gv1", "host::svol", false)]
    [InlineData(":gv1", "geo@host:/srv/s", false)]
    [InlineData(":gv1", "/srv/s", false)]
    [InlineData(":gv1", "gluster://peer1:svol", false)]
    [InlineData("gluster://peer1:gv1", null, false)]
    [InlineData("/srv/s", null, false)]
    [InlineData("/srv/m", "host::svol", true)]
    [InlineData("/srv/m", "/srv/s", true)]
    public void AcceptsConnectiblePairs(string master, string? slave, bool allowDirectoryMaster)
    {
        GeoSyncUrl.EnsureConnectible(GeoSyncUrl.Parse(master), slave is null ? null : GeoSyncUrl.Parse(slave), allowDirectoryMaster);
    }

    [Theory]
    [InlineData("/srv/m", "host::svol", false, "file:///srv/m cannot work with ssh://host::svol: ", "GeoSync extension")]
    [InlineData("/srv/m", "/srv/s", false, "file:///srv/m cannot work with file:///srv/s: ", "GeoSync extension")]
    [InlineData("host::vol", null, false, "ssh://host::vol cannot work with None: ", "remote side")]
    [InlineData("host::vol", ":gv1", true, "ssh://host::vol cannot work with gluster://localhost:gv1: ", "remote side")]
    [InlineData(":gv1", "host:ssh://other:/x", false, "gluster://localhost:gv1 cannot work with ssh://host:ssh://other:/x: ", "inner URL")]
    public void RejectsPairsThatCannotWork(string master, string? slave, bool allowDirectoryMaster, string prefix, string hint)
    {
        var error = Assert.Throws<GeoSyncUrlException>(() => GeoSyncUrl.EnsureConnectible(
            GeoSyncUrl.Parse(master), slave is null ? null : GeoSyncUrl.Parse(slave), allowDirectoryMaster));

        Assert.StartsWith(prefix, error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SystemResolverUsesTheHostsFileAndTheEffectiveUser()
    {
        var resolver = new SystemHostResolver();

        Assert.Equal("127.0.0.1", resolver.ResolveIPv4("localhost"));
        Assert.Equal("192.0.2.1", resolver.ResolveIPv4("192.0.2.1"));
        Assert.Equal(Environment.UserName, resolver.EffectiveUserName);
        Assert.Equal($"ssh://{Environment.UserName}@127.0.0.1:gluster://127.0.0.1:gv2", GeoSyncUrl.Parse("localhost::gv2").ToCanonical());
    }

    [Fact]
    public void SystemResolverReportsAnUnresolvableHost()
    {
        // RFC 6761 reserves .invalid: no resolver may answer for it.
        var error = Assert.Throws<GeoSyncUrlException>(() => GeoSyncUrl.Parse("no-such-host.invalid:vol").ToCanonical());

        Assert.StartsWith("failed to resolve no-such-host.invalid: ", error.Message, StringComparison.Ordinal);
        Assert.Equal("no-such-host.invalid:vol", error.Url);
    }
}

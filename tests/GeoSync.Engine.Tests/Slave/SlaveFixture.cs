using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Slave;

/// <summary>A slave server over a fresh temp root, with real xattrs (trusted.*, we run as root) and a hand-set clock.</summary>
public abstract class SlaveFixture : IDisposable
{
    protected const string Ns = XattrNames.TrustedNamespace;

    protected SlaveFixture(SlaveServerOptions? options = null)
    {
        Dir = new TempDirectory("geosync-slave-");
        Clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1700000000));
        Server = new SlaveServer(Dir.Path, Xattrs, Ns, Clock, options);
    }

    internal TempDirectory Dir { get; }
    internal ManualClock Clock { get; }
    protected PosixXattrStore Xattrs { get; } = new();
    protected SlaveServer Server { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Dir.Dispose();
    }

    protected string RootPath(string relative) => Dir.Combine(relative);

    protected Task<object?> Call(string method, params object?[] args) => Server.InvokeAsync(method, args).AsTask();

    protected async Task<PyException> Fails(string method, params object?[] args)
    {
        var ex = await Assert.ThrowsAsync<RepceCallException>(() => Call(method, args));
        return ex.Exception;
    }

    protected async Task FailsWithOsError(int errno, string method, params object?[] args)
    {
        var ex = await Fails(method, args);
        Assert.Equal("OSError", ex.TypeName);
        Assert.Equal(2, ex.Args.Count);
        Assert.Equal((long)errno, ex.Args[0]);
        Assert.IsType<string>(ex.Args[1]);
        Assert.NotEmpty((string)ex.Args[1]!);
    }

    protected async Task IsUnsafe(string method, params object?[] args)
    {
        var ex = await Fails(method, args);
        Assert.Equal(new PyException("exceptions", "ValueError", new PyTuple("unsafe path")), ex);
    }

    protected static string XtimeName(string uuid) => $"{Ns}.{uuid}.xtime";
}

/// <summary>Linux errno values the slave answers with (docs/protocol.md, "The slave's API").</summary>
internal static class E
{
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENOTEMPTY = 39;
    public const int ENODATA = 61;
    public const int ERANGE = 34;
}

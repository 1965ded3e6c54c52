using System.IO.Hashing;
using GeoSync.Engine.Master;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Verify;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Verify;

/// <summary>The slave's verify_entries and checksum_entries on a real directory, and a whole verify through them.</summary>
public sealed class VerifyMethodsTests : SlaveFixture
{
    [Fact]
    public async Task VerifyEntriesListsEveryEntryWithItsAttributes()
    {
        Dir.CreateFile("f", "hello");
        Assert.Equal(0, Syscall.chmod(RootPath("f"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));
        Dir.CreateDirectory("d");
        Dir.CreateSymlink("l", "f");
        Assert.Equal(0, Syscall.mkfifo(RootPath("p"), FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));

        var answer = (IReadOnlyList<object?>)(await Call("verify_entries", ".", false))!;
        var byName = answer.Cast<IReadOnlyList<object?>>().ToDictionary(t => (string)t[0]!);
        Assert.Equal(["d", "f", "l", "p"], byName.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((long)(0x8000 | 0x180), byName["f"][1]);
        Assert.Equal(5L, byName["f"][4]);
        Assert.Null(byName["f"][6]);
        Assert.Null(byName["f"][8]);
        Assert.Equal(0x4000L, (long)byName["d"][1]! & 0xF000);
        Assert.Equal("f", byName["l"][6]);
        Assert.Equal(0x1000L, (long)byName["p"][1]! & 0xF000);
        Assert.Equal(0, Syscall.lstat(RootPath("f"), out var stat));
        Assert.Equal(stat.st_mtime * 1_000_000_000L + stat.st_mtime_nsec, byName["f"][5]);
    }

    [Fact]
    public async Task VerifyEntriesGivesADevicesNumberAsLstatDoes()
    {
        // 1:3 is /dev/null's number; creating a device node needs root, which these tests run as.
        Assert.Equal(0, Syscall.mknod(RootPath("null"), FilePermissions.S_IFCHR | FilePermissions.S_IRUSR | FilePermissions.S_IWUSR, 0x103));
        Assert.Equal(0, Syscall.lstat(RootPath("null"), out var stat));
        var entry = ((IReadOnlyList<object?>)(await Call("verify_entries", ".", false))!).Cast<IReadOnlyList<object?>>().Single();
        Assert.Equal(0x2000L, (long)entry[1]! & 0xF000);
        Assert.Equal((long)stat.st_rdev, entry[7]);
        Assert.Equal("char device 1:3", new ReplicaEntry("null", ReplicaEntryType.CharacterDevice, 0, 0, 0, 0, 0, null, (long)entry[7]!).Describe());
    }

    [Fact]
    public async Task VerifyEntriesReadsUserXattrsOnlyWhenAsked()
    {
        Dir.CreateFile("f");
        Xattrs.Set(RootPath("f"), "user.colour", "blue"u8);
        Xattrs.Set(RootPath("f"), "trusted.glusterfs.internal", "x"u8);
        var plain = ((IReadOnlyList<object?>)(await Call("verify_entries", ".", false))!).Cast<IReadOnlyList<object?>>().Single();
        Assert.Null(plain[8]);
        var with = ((IReadOnlyList<object?>)(await Call("verify_entries", ".", true))!).Cast<IReadOnlyList<object?>>().Single();
        var xattrs = Assert.IsAssignableFrom<IReadOnlyDictionary<object, object?>>(with[8]);
        Assert.Equal(Convert.ToHexString("blue"u8), Assert.Single(xattrs, x => (string)x.Key == "user.colour").Value);
        Assert.Single(xattrs);
    }

    [Fact]
    public async Task ChecksumEntriesHashesOnTheSlaveAndGivesAnErrnoForWhatItCannotHash()
    {
        Dir.CreateDirectory("d");
        Dir.CreateFile("d/a", "content");
        Dir.CreateSymlink("d/l", "a");
        var answer = ((IReadOnlyList<object?>)(await Call("checksum_entries", "d", new List<object?> { "a", "l", "gone" }, "xxh128"))!)
            .Cast<IReadOnlyList<object?>>().ToList();
        Assert.Equal(new PyTuple("a", Convert.ToHexString(XxHash128.Hash("content"u8)), 0L), answer[0]);
        Assert.Equal(new PyTuple("l", null, 40L), answer[1]); // ELOOP: a symlink is never followed
        Assert.Equal(new PyTuple("gone", null, (long)E.ENOENT), answer[2]);
    }

    [Fact]
    public async Task ChecksumEntriesRefusesAnotherAlgorithm()
    {
        Dir.CreateDirectory("d");
        var ex = await Fails("checksum_entries", "d", new List<object?> { "a" }, "sha256");
        Assert.Equal("ValueError", ex.TypeName);
        Assert.Contains("xxh128", (string)ex.Args[0]!);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("..")]
    [InlineData("")]
    public async Task ChecksumEntriesRefusesNamesThatLeaveTheDirectory(string name)
    {
        Dir.CreateDirectory("d");
        await IsUnsafe("checksum_entries", "d", new List<object?> { name }, "xxh128");
    }

    [Fact]
    public async Task BothMethodsRefuseADirectoryThatIsMissingOrASymlink()
    {
        Dir.CreateDirectory("real");
        Dir.CreateSymlink("link", "real");
        await FailsWithOsError(E.ENOENT, "verify_entries", "missing", false);
        await FailsWithOsError(E.ENOTDIR, "verify_entries", "link", false);
        await FailsWithOsError(E.ENOTDIR, "checksum_entries", "link", new List<object?> { "x" }, "xxh128");
    }

    [Fact]
    public async Task AVerifyThroughTheSlaveMethodsFindsWhatDiffers()
    {
        using var master = new TempDirectory("geosync-verify-master-");
        foreach (var root in new[] { master, Dir })
        {
            root.CreateDirectory("d");
            root.CreateFile("d/same", "12345");
            root.CreateFile("d/edited", "abcde");
            root.CreateSymlink("l", "d/same");
        }
        File.WriteAllText(RootPath("d/edited"), "abXde");
        File.SetLastWriteTimeUtc(RootPath("d/edited"), File.GetLastWriteTimeUtc(master.Combine("d/edited")));
        foreach (var path in new[] { "d", "d/same", "d/edited" })
        {
            File.SetLastWriteTimeUtc(RootPath(path), File.GetLastWriteTimeUtc(master.Combine(path)));
        }
        master.CreateFile("only-on-master");

        var slave = new SlaveReplicaSide(WireCall(Server), withXattrs: false, "file:///slave");
        var differences = new List<ReplicaDifference>();
        var result = await new ReplicaVerifier(new LocalReplicaSide(master.Path, false), slave, new ReplicaVerifyOptions { Checksum = true })
            .VerifyAsync(differences.Add);
        Assert.Equal([DifferenceKind.Missing, DifferenceKind.Content], differences.Select(d => d.Kind));
        Assert.Equal(["only-on-master", "d/edited"], differences.Select(d => d.Path));
        Assert.Equal(10, result.BytesHashed);
    }

    [Fact]
    public async Task ASlaveWithoutTheMethodsIsRefusedClearly()
    {
        var gsyncd = new SlaveReplicaSide((method, _, _) =>
            throw new RemoteAttributeException(method, new PyException("exceptions", "AttributeError", new PyTuple($"no attribute '{method}'"))),
            withXattrs: false, "ssh://host::svol");
        var ex = await Assert.ThrowsAsync<GeoSyncException>(() => gsyncd.ListAsync("."));
        Assert.StartsWith("verify needs a GeoSync slave", ex.Message);
        Assert.Contains("ssh://host::svol", ex.Message);
    }

    private static SlaveCall WireCall(SlaveServer server) => async (method, args, ct) =>
    {
        try
        {
            return await server.InvokeAsync(method, args, ct);
        }
        catch (RepceCallException ex)
        {
            throw WireSlaveChannel.AsRemote(method, ex.Exception);
        }
    };
}

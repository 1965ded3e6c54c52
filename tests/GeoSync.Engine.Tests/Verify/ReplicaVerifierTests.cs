using GeoSync.Engine.Verify;

namespace GeoSync.Engine.Tests.Verify;

/// <summary>The comparison rules of <see cref="ReplicaVerifier"/>, over two in-memory sides.</summary>
public sealed class ReplicaVerifierTests
{
    private const long Mtime = 1_700_000_000_000_000_000;

    private readonly FakeSide _master = new();
    private readonly FakeSide _slave = new();

    [Fact]
    public async Task IdenticalTreesHaveNoDifferences()
    {
        Both(s => s.Tree());
        var (differences, result) = await Verify(checksum: true);
        Assert.Empty(differences);
        Assert.True(result.Matches);
        Assert.Equal(6, result.EntriesCompared); // a, b, d, link at the root; d/c and d/e below
        Assert.Equal(3, result.DirectoriesCompared);
        Assert.Equal(2 + 3 + 4, result.BytesHashed);
        Assert.Equal(3, result.FilesHashed);
    }

    [Fact]
    public async Task EachAttributeKindIsReportedWithBothValues()
    {
        Both(s => s.Tree());
        _slave.Put(".", File("a", size: 3) with { Mode = 0x180 }); // 0600, and a size of 3
        _slave.Put(".", File("b", size: 3) with { Uid = 7, Gid = 8, ModifyTimeNs = Mtime + 5_000_000_000 });
        _slave.Put(".", Link("link", "elsewhere"));
        var (differences, _) = await Verify();
        Assert.Equal(
        [
            new ReplicaDifference("a", DifferenceKind.Size, "2", "3"),
            new ReplicaDifference("a", DifferenceKind.Mode, "0644", "0600"),
            new ReplicaDifference("b", DifferenceKind.Owner, "0:0", "7:8"),
            new ReplicaDifference("b", DifferenceKind.Mtime, "2023-11-14 22:13:20.000000", "2023-11-14 22:13:25.000000"),
            new ReplicaDifference("link", DifferenceKind.Link, "a", "elsewhere"),
        ], differences);
    }

    [Fact]
    public async Task MissingAndExtraEntriesAreReportedOnceWithoutDescending()
    {
        _master.Tree();
        _slave.Tree();
        _slave.Remove(".", "d");
        _slave.Put(".", Directory("x"));
        _slave.Put("x", File("deep", 1));
        var (differences, result) = await Verify();
        Assert.Equal(
        [
            new ReplicaDifference("d", DifferenceKind.Missing, "directory", null),
            new ReplicaDifference("x", DifferenceKind.Extra, null, "directory"),
        ], differences);
        Assert.Equal(1, result.DirectoriesCompared);
        Assert.DoesNotContain("x", _slave.Listed);
        Assert.DoesNotContain("d", _master.Listed);
    }

    [Fact]
    public async Task ATypeChangeIsOneDifferenceAndItsSubtreeIsNotCompared()
    {
        Both(s => s.Tree());
        _slave.Put(".", File("d", 4));
        _slave.Put(".", File("link", 1));
        var (differences, _) = await Verify(checksum: true);
        Assert.Equal(
        [
            new ReplicaDifference("d", DifferenceKind.Type, "directory", "file"),
            new ReplicaDifference("link", DifferenceKind.Type, "symlink", "file"),
        ], differences);
        Assert.DoesNotContain("d", _master.Listed);
    }

    [Fact]
    public async Task ADeviceWithAnotherNumberIsATypeDifference()
    {
        _master.Put(".", Special("null", ReplicaEntryType.CharacterDevice, 0x103));
        _slave.Put(".", Special("null", ReplicaEntryType.CharacterDevice, 0x105));
        _master.Put(".", Special("pipe", ReplicaEntryType.Fifo, 0));
        _slave.Put(".", Special("pipe", ReplicaEntryType.Socket, 0));
        var (differences, _) = await Verify();
        Assert.Equal(
        [
            new ReplicaDifference("null", DifferenceKind.Type, "char device 1:3", "char device 1:5"),
            new ReplicaDifference("pipe", DifferenceKind.Type, "fifo", "socket"),
        ], differences);
    }

    [Fact]
    public async Task AVolumesOwnEntriesInItsRootAreNoDifference()
    {
        _master.Put(".", Directory(".glusterfs-anonymous-inode-14bf465f-6b04-467a-9991-e7481253cdcf"));
        _slave.Put(".", Directory(".glusterfs-anonymous-inode-e2f7a96a-33bb-48a7-bbb0-e28d34bcf1e7"));
        _slave.Put(".", Directory(".trashcan"));
        _slave.Put(".", Directory("d"));
        _slave.Put("d", Directory(".trashcan"));
        var (differences, _) = await Verify(options: o => o with { SkipGlusterInternalNames = true });
        Assert.Equal([new ReplicaDifference("d", DifferenceKind.Extra, null, "directory")], differences);
    }

    [Fact]
    public async Task ADirectoryPairComparesEveryRootName()
    {
        _slave.Put(".", Directory(".trashcan"));
        var (differences, _) = await Verify();
        Assert.Equal([new ReplicaDifference(".trashcan", DifferenceKind.Extra, null, "directory")], differences);
    }

    [Fact]
    public async Task ASymlinksOwnModeAndTimesAreNotCompared()
    {
        _master.Put(".", Link("l", "t"));
        _slave.Put(".", Link("l", "t") with { Mode = 0x1FF, ModifyTimeNs = 5 });
        var (differences, _) = await Verify();
        Assert.Empty(differences);
    }

    [Fact]
    public async Task ADirectorysModeOwnerAndMtimeAreCompared()
    {
        Both(s => s.Tree());
        _slave.Put(".", Directory("d") with { Mode = 0x1C0, Uid = 3, ModifyTimeNs = Mtime - 1_000 });
        var (differences, _) = await Verify();
        Assert.Equal([DifferenceKind.Mode, DifferenceKind.Owner, DifferenceKind.Mtime], differences.Select(d => d.Kind));
        Assert.All(differences, d => Assert.Equal("d", d.Path));
    }

    [Fact]
    public async Task MtimesWithinAMicrosecondMatch()
    {
        _master.Put(".", File("f", 1));
        _slave.Put(".", File("f", 1) with { ModifyTimeNs = Mtime + 999 });
        var (differences, _) = await Verify();
        Assert.Empty(differences);
    }

    [Fact]
    public async Task ContentIsComparedOnlyWithChecksumAndOnlyAtEqualSize()
    {
        Both(s => s.Tree());
        _slave.Content["a"] = "XY"; // same size, other bytes
        _slave.Put(".", File("b", 4));
        _slave.Content["b"] = "QQQQ";
        var (plain, _) = await Verify();
        Assert.Equal([new ReplicaDifference("b", DifferenceKind.Size, "3", "4")], plain);

        var (hashed, result) = await Verify(checksum: true);
        Assert.Equal(2, hashed.Count);
        Assert.Equal(new ReplicaDifference("a", DifferenceKind.Content, "xxh128:" + FakeSide.Digest("ab")[..12].ToLowerInvariant(),
            "xxh128:" + FakeSide.Digest("XY")[..12].ToLowerInvariant()), hashed[0]);
        Assert.Equal(DifferenceKind.Size, hashed[1].Kind);
        Assert.DoesNotContain("b", _master.Hashed);
        Assert.Equal(2 + 4, result.BytesHashed); // a and d/c: b differs in size, d/e matches
    }

    [Fact]
    public async Task HashingRunsInBatchesThatCoverEveryFile()
    {
        for (var i = 0; i < 7; i++)
        {
            _master.Put(".", File($"f{i}", 1));
            _master.Content[$"f{i}"] = "a";
            _slave.Put(".", File($"f{i}", 1));
            _slave.Content[$"f{i}"] = i == 5 ? "b" : "a";
        }
        var (differences, result) = await Verify(checksum: true, options: o => o with { HashBatchFiles = 2 });
        Assert.Equal([new ReplicaDifference("f5", DifferenceKind.Content, "xxh128:" + FakeSide.Digest("a")[..12].ToLowerInvariant(),
            "xxh128:" + FakeSide.Digest("b")[..12].ToLowerInvariant())], differences);
        Assert.Equal(7, result.FilesHashed);
        Assert.Equal(4, _slave.HashCalls);
    }

    [Fact]
    public async Task XattrsAreComparedOnlyWhenAsked()
    {
        _master.Put(".", File("f", 1) with { Xattrs = new Dictionary<string, string> { ["user.a"] = "01", ["user.b"] = "02" } });
        _slave.Put(".", File("f", 1) with { Xattrs = new Dictionary<string, string> { ["user.a"] = "01", ["user.b"] = "03" } });
        var (ignored, _) = await Verify();
        Assert.Empty(ignored);
        var (differences, _) = await Verify(options: o => o with { Xattrs = true });
        Assert.Equal([new ReplicaDifference("f", DifferenceKind.Xattr, "user.b", "user.b")], differences);
    }

    [Fact]
    public async Task DifferencesComeInWalkOrderWhateverTheListingOrder()
    {
        foreach (var side in new[] { _master, _slave })
        {
            foreach (var dir in new[] { "z", "a", "m" })
            {
                side.Put(".", Directory(dir));
                side.Put(dir, Directory("sub"));
            }
        }
        foreach (var dir in new[] { "m", "z", "a" })
        {
            _master.Put($"{dir}/sub", File("new", 1));
            _master.Put(dir, File("0", 1));
        }
        var (differences, _) = await Verify(options: o => o with { Parallelism = 3, Lookahead = 1 });
        Assert.Equal(["a/0", "a/sub/new", "m/0", "m/sub/new", "z/0", "z/sub/new"], differences.Select(d => d.Path));
    }

    [Fact]
    public async Task AnUnreadableDirectoryIsReportedAndTheRestCompared()
    {
        Both(s => s.Tree());
        _slave.Unreadable.Add("d");
        _master.Put(".", File("later", 1));
        var unreadable = new List<(string, string)>();
        var differences = new List<ReplicaDifference>();
        var result = await new ReplicaVerifier(_master, _slave).VerifyAsync(differences.Add, (p, r) => unreadable.Add((p, r)));
        Assert.Equal([new ReplicaDifference("later", DifferenceKind.Missing, "file", null)], differences);
        var (path, reason) = Assert.Single(unreadable);
        Assert.Equal("d", path);
        Assert.StartsWith("on the slave:", reason);
        Assert.Equal(1, result.Unreadable);
        Assert.False(result.Matches);
    }

    [Fact]
    public async Task AFatalFailureOfOneSideEndsTheVerify()
    {
        Both(s => s.Tree());
        _slave.Fatal = new GeoSyncProtocolException("connection lost");
        await Assert.ThrowsAsync<GeoSyncProtocolException>(() => Verify());
    }

    [Fact]
    public async Task CancellationStopsIt()
    {
        Both(s => s.Tree());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new ReplicaVerifier(_master, _slave).VerifyAsync(_ => { }, null, cancelled.Token));
    }

    private void Both(Action<FakeSide> build)
    {
        build(_master);
        build(_slave);
    }

    private async Task<(List<ReplicaDifference> Differences, ReplicaVerifyResult Result)> Verify(bool checksum = false,
        Func<ReplicaVerifyOptions, ReplicaVerifyOptions>? options = null)
    {
        var settings = new ReplicaVerifyOptions { Checksum = checksum };
        if (options is not null) settings = options(settings);
        var differences = new List<ReplicaDifference>();
        var result = await new ReplicaVerifier(_master, _slave, settings).VerifyAsync(differences.Add);
        return (differences, result);
    }

    private static ReplicaEntry File(string name, long size) => new(name, ReplicaEntryType.Regular, 0x1A4, 0, 0, size, Mtime, null, 0);

    private static ReplicaEntry Directory(string name) => new(name, ReplicaEntryType.Directory, 0x1ED, 0, 0, 0, Mtime, null, 0);

    private static ReplicaEntry Link(string name, string target) => new(name, ReplicaEntryType.Symlink, 0x1FF, 0, 0, target.Length, Mtime, target, 0);

    private static ReplicaEntry Special(string name, ReplicaEntryType type, long rdev) => new(name, type, 0x1A4, 0, 0, 0, Mtime, null, rdev);

    /// <summary>A side in memory: directories of entries, file contents by path, and a record of what was read.</summary>
    private sealed class FakeSide : IReplicaSide
    {
        private readonly Dictionary<string, Dictionary<string, ReplicaEntry>> _directories = new(StringComparer.Ordinal);

        public Dictionary<string, string> Content { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Unreadable { get; } = [];

        public System.Collections.Concurrent.ConcurrentBag<string> Listed { get; } = [];

        public System.Collections.Concurrent.ConcurrentBag<string> Hashed { get; } = [];

        public int HashCalls;

        public Exception? Fatal { get; set; }

        public static string Digest(string content) =>
            Convert.ToHexString(System.IO.Hashing.XxHash128.Hash(System.Text.Encoding.UTF8.GetBytes(content)));

        /// <summary>a (2 bytes), b (3), d/c (4), d/e (empty dir), link → a.</summary>
        public void Tree()
        {
            Put(".", File("a", 2));
            Content["a"] = "ab";
            Put(".", File("b", 3));
            Content["b"] = "abc";
            Put(".", Directory("d"));
            Put("d", File("c", 4));
            Content["d/c"] = "abcd";
            Put("d", Directory("e"));
            _directories.TryAdd("d/e", new(StringComparer.Ordinal));
            Put(".", Link("link", "a"));
        }

        public void Put(string directory, ReplicaEntry entry)
        {
            if (!_directories.TryGetValue(directory, out var entries)) _directories[directory] = entries = new(StringComparer.Ordinal);
            entries[entry.Name] = entry;
            if (entry.Type == ReplicaEntryType.Directory) _directories.TryAdd(directory == "." ? entry.Name : directory + "/" + entry.Name, new(StringComparer.Ordinal));
        }

        public void Remove(string directory, string name) => _directories[directory].Remove(name);

        public async Task<IReadOnlyList<ReplicaEntry>> ListAsync(string path, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            if (Fatal is not null) throw Fatal;
            if (Unreadable.Contains(path)) throw new GeoSyncReplicaReadException(path, 13, $"cannot read '{path}': Permission denied");
            Listed.Add(path);
            // Reverse order: the verifier must not rely on the side's order.
            return _directories.TryGetValue(path, out var entries) ? entries.Values.Reverse().ToList() : [];
        }

        public async Task<IReadOnlyList<EntryDigest>> HashAsync(string path, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            Interlocked.Increment(ref HashCalls);
            return names.Select(name =>
            {
                var full = path == "." ? name : path + "/" + name;
                Hashed.Add(full);
                return new EntryDigest(name, Digest(Content.GetValueOrDefault(full, "")), 0);
            }).ToList();
        }
    }
}

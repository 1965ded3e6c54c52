using System.Diagnostics;
using System.Text.Json;
using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;
using Xunit;

namespace GeoSync.Engine.Tests.Operations;

public sealed class ReplicationStoreTests : IDisposable
{
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("geosync-store-").FullName;

    public void Dispose() => Directory.Delete(_stateDirectory, recursive: true);

    private ReplicationStore Store => new(_stateDirectory);

    private static KeyValuePair<string, object?>[] Options(params (string Key, object? Value)[] values) =>
        values.Select(v => new KeyValuePair<string, object?>(v.Key, v.Value)).ToArray();

    [Fact]
    public void CreateWritesAReadableConfigWithNormalizedUrlsAndTheOptionsByKey()
    {
        var created = Store.Create("mvol-dr", "/srv/m", "file:///srv/s", Options(("SyncJobs", 4), ("slave-mode", "child"), ("xattrs", true)));

        Assert.Equal("file:///srv/m", created.Master);
        var text = File.ReadAllText(new ReplicationPaths(_stateDirectory, "mvol-dr").ConfigFile);
        using var json = JsonDocument.Parse(text);
        Assert.Equal("file:///srv/m", json.RootElement.GetProperty("Master").GetString());
        var options = json.RootElement.GetProperty("Options");
        Assert.Equal(4, options.GetProperty("sync-jobs").GetInt32());
        Assert.Equal("Child", options.GetProperty("slave-mode").GetString());
        Assert.True(options.GetProperty("xattrs").GetBoolean());
        Assert.Contains("\n  ", text, StringComparison.Ordinal);

        var read = Store.Get("mvol-dr");
        Assert.Equal(4, read.Options["sync-jobs"]);
        Assert.Equal(SlaveMode.Child, read.Options["slave-mode"]);
        Assert.Equal(SlaveMode.Child, read.Effective(ReplicationOptions.Get("slave-mode")));
        Assert.Equal(120, read.Effective(ReplicationOptions.Get("timeout")));
    }

    [Fact]
    public void ASecondCreateWithTheSameNameIsRefusedAndTheFirstIsKept()
    {
        Store.Create("a", "/srv/m", "/srv/s", []);
        var e = Assert.Throws<GeoSyncReplicationExistsException>(() => Store.Create("a", "/srv/other", "/srv/s2", []));
        Assert.Contains("'a' already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal("file:///srv/m", Store.Get("a").Master);
    }

    [Fact]
    public void NothingIsWrittenWhenAnOptionAUrlOrTheNameIsBad()
    {
        Assert.Throws<InvalidReplicationOptionException>(() => Store.Create("a", "/srv/m", "/srv/s", Options(("sync-jobs", 0))));
        Assert.Throws<InvalidReplicationOptionException>(() => Store.Create("a", "/srv/m", "/srv/s", Options(("sync-job", 2))));
        Assert.Throws<GeoSyncUrlException>(() => Store.Create("a", "ssh://h:/srv/m", "/srv/s", []));
        Assert.Throws<GeoSyncUrlException>(() => Store.Create("a", "/srv/m", "host:", []));
        Assert.Throws<GeoSyncReplicationNameException>(() => Store.Create("../a", "/srv/m", "/srv/s", []));
        Assert.Empty(ReplicationPaths.ListNames(_stateDirectory));
        Assert.False(Directory.Exists(Path.Combine(_stateDirectory, "replications", "a")));
    }

    [Fact]
    public void UpdateSetsAndResetsAndRefusesAllWhenOneIsBad()
    {
        Store.Create("a", "/srv/m", "/srv/s", Options(("sync-jobs", 4), ("timeout", 30)));
        var before = File.ReadAllText(Store.PathsOf("a").ConfigFile);

        Assert.Throws<InvalidReplicationOptionException>(() => Store.Update("a", Options(("ssh-port", 22), ("interval", -1.0)), []));
        Assert.Throws<InvalidReplicationOptionException>(() => Store.Update("a", [], ["sync-jobz"]));
        Assert.Throws<InvalidReplicationOptionException>(() => Store.Update("a", Options(("timeout", 10)), ["Timeout"]));
        Assert.Equal(before, File.ReadAllText(Store.PathsOf("a").ConfigFile));

        var updated = Store.Update("a", Options(("SshPort", 2222)), ["SyncJobs"]);
        Assert.False(updated.Options.ContainsKey("sync-jobs"));
        Assert.Equal(2222, Store.Get("a").Options["ssh-port"]);
        Assert.Equal(30, Store.Get("a").Options["timeout"]);
    }

    [Fact]
    public void MissingReplicationsAreNamedWithHowToCreateThem()
    {
        var e = Assert.Throws<GeoSyncReplicationNotFoundException>(() => Store.Get("nope"));
        Assert.Contains("geosync create nope", e.Message, StringComparison.Ordinal);
        Assert.Throws<GeoSyncReplicationNotFoundException>(() => Store.Update("nope", [], []));
        Assert.Throws<GeoSyncReplicationNotFoundException>(() => Store.Remove("nope", force: false));
    }

    [Fact]
    public void AHandEditedConfigWithABadValueIsRefusedNamingTheFile()
    {
        Store.Create("a", "/srv/m", "/srv/s", []);
        var path = Store.PathsOf("a").ConfigFile;
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"Options\": {}", "\"Options\": { \"sync-jobs\": 100 }", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidReplicationOptionException>(() => Store.Get("a"));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'100'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RemoveDeletesTheFolderButNotWhileAMasterLoopHoldsTheLock()
    {
        Store.Create("a", "/srv/m", "/srv/s", []);
        var paths = Store.PathsOf("a");
        using (new FileStream(paths.StateFile + ReplicationActivity.LockSuffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            // The lock is per open file description, so a second open in this process meets it as another process would.
            Assert.NotNull(ReplicationActivity.RunningReason(paths));
            var e = Assert.Throws<GeoSyncReplicationRunningException>(() => Store.Remove("a", force: false));
            Assert.Contains("geosync stop a", e.Message, StringComparison.Ordinal);
            Assert.True(Store.Exists("a"));
        }
        Assert.Null(ReplicationActivity.RunningReason(paths));
        Store.Remove("a", force: false);
        Assert.False(Directory.Exists(paths.Directory));
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("b", false)]
    [InlineData("../a", false)]
    [InlineData("", false)]
    public void ExistsAnswersForAnyStringWithoutThrowing(string name, bool exists)
    {
        Store.Create("a", "/srv/m", "/srv/s", []);
        Assert.Equal(exists, Store.Exists(name));
    }

    [Fact]
    public void ALiveSupervisorMeansRunningAndADeadOneDoesNot()
    {
        Store.Create("a", "/srv/m", "/srv/s", []);
        var paths = Store.PathsOf("a");
        using var self = Process.GetCurrentProcess();
        AtomicJsonFile.Write(paths.SupervisorFile, new SupervisorRecord { State = "Active", SupervisorPid = self.Id, SupervisorStartTime = self.StartTime });
        Assert.Contains($"process {self.Id}", ReplicationActivity.RunningReason(paths), StringComparison.Ordinal);
        Assert.Throws<GeoSyncReplicationRunningException>(() => Store.Remove("a", force: false));

        // The same pid with another start time is a reused pid: not the supervisor.
        AtomicJsonFile.Write(paths.SupervisorFile, new SupervisorRecord { State = "Active", SupervisorPid = self.Id, SupervisorStartTime = self.StartTime.AddHours(-1) });
        Assert.Null(ReplicationActivity.RunningReason(paths));

        AtomicJsonFile.Write(paths.SupervisorFile, new SupervisorRecord { State = "Active", SupervisorPid = self.Id, SupervisorStartTime = self.StartTime });
        Store.Remove("a", force: true);
        Assert.False(Store.Exists("a"));
    }

    [Fact]
    public void ListReturnsEveryDefinitionByName()
    {
        Store.Create("b", "/srv/m2", "/srv/s2", []);
        Store.Create("a", "/srv/m", "/srv/s", []);
        Assert.Equal(["a", "b"], Store.List().Select(d => d.Name));
    }

    [Fact]
    public void TheWorkerArgvNamesTheReplicationAndTheStateDirectory() =>
        Assert.Equal(["master", "--replication", "a", "--state-dir", _stateDirectory],
            ReplicationWorker.Arguments(Store.PathsOf("a")));
}

using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;

namespace GeoSync.Engine.Tests.Operations;

public sealed class ReplicationSessionOptionsTests
{
    // One instance, so that record equality compares the options and not two arrays.
    private static readonly string[] SlaveCommand = ["geosync", "slave"];

    private static ReplicationDefinition Definition(Dictionary<string, object> options) => new()
    {
        Name = "r1",
        Master = "file:///m",
        Slave = "ssh://backup@dr1:/srv/s",
        Options = options,
        StateDirectory = "/tmp/state",
    };

    [Fact]
    public void EveryStoredOptionIsEitherTheLoopsOrReachesTheSession()
    {
        var defaults = ReplicationSessionOptions.From(Definition([]), SlaveCommand);
        foreach (var option in ReplicationOptions.ForWorker.Where(o => !ReplicationSessionOptions.LoopOnlyKeys.Contains(o.Key)))
        {
            object value = option.Kind switch
            {
                ReplicationOptionKind.Integer => (int)Math.Max(option.Minimum, 2) == (option.Default as int? ?? -1) ? 3 : (int)Math.Max(option.Minimum, 2),
                ReplicationOptionKind.Number => 0.25,
                ReplicationOptionKind.Switch => true,
                ReplicationOptionKind.Words => new[] { "x", "y" },
                ReplicationOptionKind.Choice => Enum.GetValues(option.ChoiceType!).Cast<object>().Last(),
                _ => "/some/value",
            };
            var options = ReplicationSessionOptions.From(Definition(new() { [option.Key] = value }), SlaveCommand);
            Assert.False(options == defaults, $"option {option.Key} changed nothing in the session options");
        }
    }

    [Fact]
    public void ThePairNameAndSshOptionsComeFromTheDefinition()
    {
        var options = ReplicationSessionOptions.From(Definition(new()
        {
            ["ssh-port"] = 2222,
            ["identity-file"] = "/root/.ssh/dr",
            ["sync-jobs"] = 4,
            ["slave-mode"] = SlaveMode.Ssh,
            ["interval"] = 5.0,
        }), SlaveCommand);

        Assert.Equal("file:///m", options.Master);
        Assert.Equal("r1", options.Name);
        Assert.Equal(2222, options.Ssh.Port);
        Assert.Equal("/root/.ssh/dr", options.Ssh.IdentityFile);
        Assert.Equal(4, options.SyncJobs);
        Assert.Equal(SlaveMode.Ssh, options.SlaveMode);
    }

    [Fact]
    public void AnOptionNotGivenKeepsTheCatalogsDefault()
    {
        // Test-GeoSyncReplica passes only the parameters bound: its -ConnectionTimeoutSec default must come out as the catalog's.
        var options = ReplicationSessionOptions.From("file:///m", "file:///s", "Verify", new Dictionary<string, object>(), SlaveCommand);

        var catalogDefault = Convert.ToInt32(ReplicationOptions.Get("connection-timeout").Default, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.FromSeconds(catalogDefault), options.ConnectionTimeout);
        Assert.Equal(SessionOptions.DefaultConnectionTimeoutSeconds, catalogDefault);
        Assert.Equal(TimeSpan.FromSeconds(60), options.ConnectionTimeout);
    }
}

using GeoSync.Engine.Operations;
using GeoSync.Engine.Session;
using Xunit;

namespace GeoSync.Engine.Tests.Operations;

public sealed class ReplicationOptionsTests
{
    [Fact]
    public void KeysAndParameterNamesAreUniqueAndKeysAreKebabCase()
    {
        var all = ReplicationOptions.All;
        Assert.Equal(all.Count, all.Select(o => o.Key).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(all.Count, all.Select(o => o.ParameterName).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(all, o => Assert.Matches("^[a-z]+(-[a-z]+)*$", o.Key));
        Assert.All(all, o => Assert.False(string.IsNullOrWhiteSpace(o.Help)));
    }

    [Fact]
    public void TheOptionsTheIssueFoundMissingFromGeosyncMasterAreDeclared()
    {
        foreach (var key in new[] { "slave-command", "gluster-command-dir", "gluster-log-dir", "connection-timeout", "directory-pruning" })
        {
            Assert.True(ReplicationOptions.Get(key).Stored, key);
        }
    }

    [Fact]
    public void RunModeOptionsAreNotStored()
    {
        Assert.Equal(["once", "max-turns", "max-reconnects", "force", "name"],
            ReplicationOptions.All.Where(o => !o.Stored).Select(o => o.Key));
    }

    [Theory]
    [InlineData("sync-jobs", "4", 4)]
    [InlineData("SyncJobs", "64", 64)]
    [InlineData("timeout", "0", 0)]
    [InlineData("ssh-port", "2222", 2222)]
    public void IntegersParseWithinTheirRange(string key, string text, int expected) =>
        Assert.Equal(expected, ReplicationOptions.Get(key).Parse(text));

    [Theory]
    [InlineData("sync-jobs", "0", "a whole number from 1 to 64")]
    [InlineData("sync-jobs", "65", "a whole number from 1 to 64")]
    [InlineData("sync-jobs", "four", "a whole number from 1 to 64")]
    [InlineData("sync-jobs", "2.5", "a whole number from 1 to 64")]
    [InlineData("ssh-port", "70000", "a whole number from 1 to 65535")]
    [InlineData("max-delete-share", "1.5", "a number from 0 to 1")]
    [InlineData("interval", "-1", "a number from 0 to 3600")]
    [InlineData("slave-mode", "rsh", "one of auto, in-process, child, ssh")]
    [InlineData("directory-pruning", "sometimes", "one of auto, enabled, disabled")]
    [InlineData("xattrs", "maybe", "true or false")]
    public void ABadValueIsRefusedNamingTheKeyTheValueAndWhatIsAllowed(string key, string text, string allowed)
    {
        var option = ReplicationOptions.Get(key);
        var e = Assert.Throws<InvalidReplicationOptionException>(() => option.Parse(text));
        Assert.Equal(option.Key, e.Key);
        Assert.Equal(text, e.Value);
        Assert.Equal(allowed, e.Allowed);
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(option.Key, e.Message, StringComparison.Ordinal);
        Assert.Contains(allowed, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChoicesTakeTheKebabAndThePowerShellSpelling()
    {
        var mode = ReplicationOptions.Get("slave-mode");
        Assert.Equal(SlaveMode.InProcess, mode.Parse("in-process"));
        Assert.Equal(SlaveMode.InProcess, mode.Parse("InProcess"));
        Assert.Equal(SlaveMode.Ssh, mode.Validate(SlaveMode.Ssh));
        Assert.Equal("in-process", mode.Format(SlaveMode.InProcess));
        Assert.Equal(typeof(SlaveMode), mode.ValueType);
    }

    [Fact]
    public void WordsSplitOnBlanksAndPathsBecomeFull()
    {
        Assert.Equal(new[] { "/opt/geosync/geosync", "slave" }, ReplicationOptions.Get("remote-command").Parse("/opt/geosync/geosync  slave"));
        Assert.Equal(Path.GetFullPath("key"), ReplicationOptions.Get("identity-file").Parse("key"));
        Assert.Throws<InvalidReplicationOptionException>(() => ReplicationOptions.Get("remote-command").Parse("  "));
        Assert.Throws<InvalidReplicationOptionException>(() => ReplicationOptions.Get("ssh-command").Validate(""));
    }

    [Fact]
    public void AnUnknownKeyIsRefusedWithTheClosestKeyAndTheList()
    {
        var e = Assert.Throws<InvalidReplicationOptionException>(() => ReplicationOptions.Get("sync-job"));
        Assert.Equal("sync-job", e.Key);
        Assert.Contains("did you mean 'sync-jobs'?", e.Message, StringComparison.Ordinal);
        Assert.Contains("directory-pruning", e.Allowed, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", Assert.Throws<InvalidReplicationOptionException>(() => ReplicationOptions.Get("frobnicate")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARunModeOptionIsNotStoredAndTheErrorSaysWhereItGoes()
    {
        var e = Assert.Throws<InvalidReplicationOptionException>(() => ReplicationOptions.ValidateStored([new("once", true)]));
        Assert.Contains("geosync master --replication NAME --once", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypedValuesAreCheckedAsStrictlyAsText()
    {
        var jobs = ReplicationOptions.Get("SyncJobs");
        Assert.Equal(3, jobs.Validate(3L));
        Assert.Throws<InvalidReplicationOptionException>(() => jobs.Validate(0));
        Assert.Throws<InvalidReplicationOptionException>(() => jobs.Validate("3"));
        Assert.Equal(0.25, ReplicationOptions.Get("max-delete-share").Validate(0.25));
        Assert.Throws<InvalidReplicationOptionException>(() => ReplicationOptions.Get("max-delete-share").Validate(double.NaN));
    }
}

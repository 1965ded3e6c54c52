using GeoSync.Engine.Rpc;

namespace GeoSync.Engine.Session;

/// <summary>
/// Refuses a master and a slave that are the same tree or contain one another, before anything is written to either
/// (docs/sessions.md, "What a session refuses"): a slave inside its master copies the master into itself, a master
/// inside its slave is purged from it.
/// </summary>
internal static class OverlapGuard
{
    /// <summary>
    /// Asks the slave for its root's identity (<see cref="RootIdentity.WireMethod"/>) and throws
    /// <see cref="GeoSyncSessionException"/> with <see cref="SessionFailure.ReplicaOverlap"/> when it overlaps the master's.
    /// A slave without the method (GlusterFS's own gsyncd) cannot be checked: that is logged and accepted.
    /// </summary>
    public static async Task CheckAsync(string masterUrl, RootIdentity master, string slaveUrl,
        Func<CancellationToken, Task<object?>> askSlave, Action<SessionLogLevel, string> log, CancellationToken cancellationToken)
    {
        object? answer;
        try
        {
            answer = await askSlave(cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteAttributeException)
        {
            log(SessionLogLevel.Verbose, $"the slave {slaveUrl} does not report what its root is ({RootIdentity.WireMethod}: not a GeoSync slave), " +
                "so whether it overlaps the master is not checked");
            return;
        }
        var slave = RootIdentity.FromWire(answer) ?? throw new GeoSyncProtocolException(
            $"the slave {slaveUrl} answered {RootIdentity.WireMethod}() with {PyRepr.Format(answer)}, which is not a root identity");
        Check(masterUrl, master, slaveUrl, slave);
        log(SessionLogLevel.Debug, $"master root {master.Path} and slave root {slave.Path}" +
            (master.Host == slave.Host ? " (same host)" : " (another host)") + " do not overlap");
    }

    /// <summary>Throws <see cref="SessionFailure.ReplicaOverlap"/> when the two roots overlap.</summary>
    public static void Check(string masterUrl, RootIdentity master, string slaveUrl, RootIdentity slave)
    {
        var slaveInMaster = slave.IsWithin(master);
        var masterInSlave = master.IsWithin(slave);
        if (!slaveInMaster && !masterInSlave) return;
        var roots = $"master {masterUrl} (root {master.Path}) and slave {slaveUrl} (root {slave.Path})";
        var what = (slaveInMaster, masterInSlave) switch
        {
            (true, true) => $"{roots} are the same directory: replicating it onto itself can only damage it.",
            (true, false) => $"the slave lies inside the master: {roots}. Replicating would copy the master into itself, level after level.",
            _ => $"the master lies inside the slave: {roots}. Replicating would purge the master from the slave, deleting it.",
        };
        throw new GeoSyncSessionException(SessionFailure.ReplicaOverlap,
            $"{what} Nothing was written. Choose a slave outside the master's tree and a master outside the slave's " +
            "(paths are compared by what they are, through symlinks, '..', bind mounts and other mounts of the same volume).");
    }
}

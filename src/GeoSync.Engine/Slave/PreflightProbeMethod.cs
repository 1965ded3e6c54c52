using System.Security.Cryptography;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Xattrs;
using Mono.Unix.Native;

namespace GeoSync.Engine.Slave;

/// <summary>
/// <c>preflight_probe()</c>, a GeoSync extension: what a preflight needs to know about the slave in one call, measured
/// on the slave's own host (docs/operations.md, "Preflight"). It creates and removes one hidden directory at the root
/// to prove the slave takes writes and the xtime attributes there; nothing else is touched.
/// </summary>
/// <remarks>
/// Returns a dict: <c>version</c> (GeoSync's on the slave host), <c>time_ns</c> (the slave's clock, ns since the epoch), <c>free_bytes</c>, <c>total_bytes</c>,
/// <c>free_inodes</c>, <c>total_inodes</c> (of the file system holding the root, as an unprivileged writer sees them),
/// <c>write_error</c> and <c>xattr_error</c> (None when the probe succeeded, else what failed), <c>rsync</c> (the rsync the
/// master's rsync would start here, None when there is none on PATH).
/// </remarks>
internal static class PreflightProbeMethod
{
    public const string Name = "preflight_probe";

    /// <summary>The probe directory's name starts with this, so a left-over one (a killed slave) is recognisable.</summary>
    public const string ProbePrefix = ".geosync-preflight-";

    public static object? Run(PathGuard guard, object treeLock, IXattrStore xattrs, string xattrNamespace, TimeProvider clock,
        IReadOnlyList<object?> args)
    {
        WireArgs.Count(Name, args, 0);
        var result = new Dictionary<object, object?>(PyEquality.Instance)
        {
            ["time_ns"] = (clock.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100,
        };
        if (Syscall.statvfs(guard.RootSelf, out var fs) != 0) throw WireArgs.OsError(Stdlib.GetLastError());
        result["version"] = typeof(PreflightProbeMethod).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
        result["rsync"] = new Transport.Mounting.LinuxMountSystem().FindProgram("rsync");
        result["free_bytes"] = (long)(fs.f_bavail * fs.f_frsize);
        result["total_bytes"] = (long)(fs.f_blocks * fs.f_frsize);
        result["free_inodes"] = (long)fs.f_favail;
        result["total_inodes"] = (long)fs.f_files;

        var probeName = ProbePrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        string? writeError = null;
        string? xattrError = null;
        lock (treeLock)
        {
            var probe = guard.Resolve(probeName).FullPath;
            if (Syscall.mkdir(probe, FilePermissions.S_IRWXU) != 0)
            {
                writeError = $"cannot create a directory at the slave root: {Stdlib.strerror(Stdlib.GetLastError())}";
            }
            else
            {
                try
                {
                    xattrError = ProbeXtime(xattrs, probe, xattrNamespace, clock);
                }
                finally
                {
                    if (Syscall.rmdir(probe) != 0 && writeError is null)
                    {
                        writeError = $"created '{probeName}' at the slave root but cannot remove it: {Stdlib.strerror(Stdlib.GetLastError())}";
                    }
                }
            }
        }
        result["write_error"] = writeError;
        result["xattr_error"] = xattrError;
        return result;
    }

    // The attribute the slave keeps its marks in, set, read back and removed on the probe directory.
    private static string? ProbeXtime(IXattrStore xattrs, string path, string xattrNamespace, TimeProvider clock)
    {
        var name = XattrNames.XtimeFor(XattrNames.FormatUuid(Guid.NewGuid()), xattrNamespace);
        var mark = Xtime.Now(clock).ToBytes();
        try
        {
            xattrs.Set(path, name, mark);
            var back = xattrs.Get(path, name);
            xattrs.Remove(path, name);
            return back is not null && back.AsSpan().SequenceEqual(mark)
                ? null
                : $"the attribute {name} read back differently from what was written";
        }
        catch (GeoSyncXattrException ex)
        {
            return $"cannot keep the xtime attribute {name}: {ex.Message}";
        }
    }
}

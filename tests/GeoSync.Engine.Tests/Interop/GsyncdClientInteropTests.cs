using System.Collections.Concurrent;
using System.Text.Json;
using GeoSync.Engine.Rpc;
using GeoSync.Engine.Slave;
using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Xattrs;
using Mono.Unix;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Interop;

/// <summary>
/// GlusterFS's own Python RePCe client (the installed repce.py, with 10.x's master handshake from resource.py) calling
/// GeoSync's slave server over a pipe pair. The Python side checks every answer and writes a report; this side checks
/// the report and what the calls left on disk.
/// </summary>
public sealed class GsyncdClientInteropTests
{
    private const string Uuid = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    private const string Ns = XattrNames.TrustedNamespace;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // The calls the issue asks for; the script must have run (and passed) each of them.
    private static readonly string[] RequiredChecks =
    [
        "version_dict", "keep_alive_none_1", "keep_alive_none_2", "keep_alive_payload", "foreign_volume_infos",
        "mkdir", "mkdir_nested", "mkdir_non_ascii", "symlink", "symlink_escaped_name", "entries_sub", "entries_root",
        "set_xtime", "xtime", "xtime_root", "xtime_missing_xattr", "xtime_missing_path", "xtime_vec",
        "mkdir_replaces_symlink", "purge_tree", "purge_set", "entries_after_purge_set", "purge_empty_set",
        "entries_after_purge_empty_set", "purge_missing", "entries_absolute", "entries_dotdot", "entries_missing",
        "entries_symlink", "symlink_outside", "mkdir_through_symlink", "purge_through_symlink",
        "set_xtime_through_symlink", "entries_through_symlink", "unknown_method", "internal_method", "ten_x_entry_ops",
        "keep_alive_after_errors", "script_completed",
    ];

    [GsyncdPeerFact]
    public async Task GlusterRepceClientDrivesOurSlaveServer()
    {
        using var root = new TempDirectory("geosync-gsyncd-client-root-");
        using var outside = new TempDirectory("geosync-gsyncd-client-outside-");
        using var work = new TempDirectory("geosync-gsyncd-client-work-");
        outside.CreateFile("f", "not yours");
        var reportPath = work.Combine("report.json");
        var refusals = new ConcurrentQueue<(string Method, Exception Reason)>();
        var slave = new SlaveServer(root.Path, new PosixXattrStore(), Ns, TimeProvider.System,
            new SlaveServerOptions { OnCallFailed = (method, reason) => refusals.Enqueue((method, reason)) });
        var server = new RepceServer(slave, new RepceServerOptions { Workers = 3 });

        try
        {
            await using (var peer = GsyncdPeer.Start(["client", reportPath, outside.Path], work.Path))
            {
                // The script closes its stdout when done: that EOF is how our server learns the master is gone.
                var served = await server.ServeAsync(peer.FromPeer, peer.ToPeer).WaitAsync(Patience);
                peer.CloseInput();
                var exitCode = await peer.WaitForExitAsync(Patience);
                var stderr = await peer.StandardError;
                Assert.True(File.Exists(reportPath), $"gsyncd_peer.py wrote no report (exit {exitCode}):\n{stderr}");
                using var report = JsonDocument.Parse(await File.ReadAllTextAsync(reportPath));
                var checks = report.RootElement.GetProperty("checks").EnumerateArray()
                    .Select(c => (Name: c.GetProperty("name").GetString()!, Ok: c.GetProperty("ok").GetBoolean(), Detail: c.GetProperty("detail").GetString()))
                    .ToList();
                var failed = checks.Where(c => !c.Ok).Select(c => $"{c.Name}: {c.Detail}").ToList();
                Assert.True(failed.Count == 0, $"checks failed on the Python side:\n{string.Join("\n", failed)}\n{stderr}");
                Assert.Empty(RequiredChecks.Except(checks.Select(c => c.Name)));
                Assert.Equal(0, exitCode);
                Assert.Equal(RepceServeOutcome.EndOfInput, served.Outcome);

                var facts = report.RootElement.GetProperty("facts");
                Assert.Equal(Path.Combine(GsyncdPeer.PythonDirectory, "repce.py"), facts.GetProperty("repce").GetString());
                // 10.x's start_fd_client built its slave URL from our pid() answer.
                Assert.Equal($"geosync-interop:/proc/{Environment.ProcessId}/cwd", facts.GetProperty("secondaryurl").GetString());
                Assert.Equal(facts.GetProperty("foreign_mark_hex").GetString(),
                    Convert.ToHexStringLower(Xattr(root.Path, $"{Ns}.volume-mark.{Uuid}") ?? []));
            }

            Assert.Equal(4, slave.KeepAliveCount);
            AssertRootHolds(root);
            AssertOutsideUntouched(outside);

            // Every symlink refusal was for the symlink, not some other failure dressed as 'unsafe path'.
            var guardRefusals = refusals.Where(r => r.Reason is GeoSyncPathGuardException).ToList();
            Assert.Equal(["entries", "entries", "mkdir", "purge", "set_xtime", "entries"], guardRefusals.Select(r => r.Method));
            Assert.All(guardRefusals.Skip(2), r => Assert.Contains("'escape' is a symbolic link", r.Reason.Message, StringComparison.Ordinal));
        }
        finally
        {
            // .NET cannot delete a name that is not UTF-8; the temp directories clean up the rest.
            _ = Syscall.unlink(Native(root.Combine("x\udcff")));
        }
    }

    private static void AssertRootHolds(TempDirectory root)
    {
        Assert.Equal(
            new[] { "box", "caf\u00e9", "d", "escape", "link", "replace", "x\udcff" }.Order(StringComparer.Ordinal),
            NamesIn(root.Path).Order(StringComparer.Ordinal));
        Assert.Equal(["sub"], NamesIn(root.Combine("d")));
        Assert.Equal(["k3"], NamesIn(root.Combine("box")));
        Assert.Empty(NamesIn(root.Combine("replace")));
        Assert.Empty(NamesIn(root.Combine("caf\u00e9")));
        Assert.Equal("target/x", ReadLink(root.Combine("link")));
        Assert.Equal("t\udcfe", ReadLink(root.Combine("x\udcff")));
        Assert.Equal(new Xtime(1700000001, 5).ToBytes(), Xattr(root.Combine("d"), $"{Ns}.{Uuid}.xtime"));
        Assert.Equal(new Xtime(1700000000, 123456).ToBytes(), Xattr(root.Path, $"{Ns}.{Uuid}.xtime"));
    }

    private static void AssertOutsideUntouched(TempDirectory outside)
    {
        Assert.Equal(["f"], NamesIn(outside.Path));
        Assert.Equal("not yours", File.ReadAllText(outside.Combine("f")));
        Assert.Null(new PosixXattrStore().Get(outside.Combine("f"), $"{Ns}.{Uuid}.xtime"));
    }

    private static byte[]? Xattr(string path, string name) => new PosixXattrStore().Get(path, name);

    /// <summary>Directory entries as surrogate-escaped text, so a test can name bytes that are not UTF-8.</summary>
    private static List<string> NamesIn(string directory) =>
        [.. new UnixDirectoryInfo(Native(directory)).GetFileSystemEntries().Select(e => PyText.DecodeSurrogateEscape(UnixEncoding.Instance.GetBytes(e.Name)))];

    private static string ReadLink(string path)
    {
        var target = UnixPath.ReadLink(Native(path));
        return PyText.DecodeSurrogateEscape(UnixEncoding.Instance.GetBytes(target));
    }

    // Test paths are written with surrogate escapes for raw bytes; Mono.Posix wants its own form of those bytes.
    private static string Native(string path) => UnixEncoding.Instance.GetString(PyText.EncodeSurrogateEscape(path));
}

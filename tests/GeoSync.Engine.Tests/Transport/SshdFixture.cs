using GeoSync.Engine.Tests.Xattrs;
using GeoSync.Engine.Transport;
using GeoSync.Engine.Urls;
using Mono.Unix.Native;

namespace GeoSync.Engine.Tests.Transport;

/// <summary>
/// A real sshd on 127.0.0.1 from tests/fixtures/sshd/sshd-fixture.sh, started once per test class and stopped after it.
/// In CI a fixture that cannot start fails every test that uses it.
/// </summary>
public sealed class SshdFixture : IAsyncLifetime
{
    private const string ScriptPath = "tests/fixtures/sshd/sshd-fixture.sh";
    private readonly ProcessRunner _runner = new();
    private Dictionary<string, string> _env = [];

    public string Home => _env["GEOSYNC_SSHD_HOME"];
    public string Host => _env["GEOSYNC_SSHD_HOST"];
    public int Port => int.Parse(_env["GEOSYNC_SSHD_PORT"], System.Globalization.CultureInfo.InvariantCulture);
    public string User => _env["GEOSYNC_SSHD_USER"];
    public string ClientKey => _env["GEOSYNC_SSHD_CLIENT_KEY"];
    public string StrangerKey => _env["GEOSYNC_SSHD_STRANGER_KEY"];
    public string KnownHosts => _env["GEOSYNC_SSHD_KNOWN_HOSTS"];
    public string Log => _env["GEOSYNC_SSHD_LOG"];

    /// <summary>Why the fixture cannot run on this machine, or null when it can (always null in CI, where it must run).</summary>
    public static string? UnavailableReason()
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            return null;
        }

        if (Syscall.geteuid() != 0)
        {
            return "the loopback sshd fixture needs root (it runs sshd and logs in as root); run the tests as root or in CI";
        }

        return File.Exists("/usr/sbin/sshd") || File.Exists("/usr/bin/apt-get")
            ? null
            : "the loopback sshd fixture needs openssh-server, and there is neither /usr/sbin/sshd nor apt-get to install it";
    }

    public async Task InitializeAsync()
    {
        var result = (await _runner.RunAsync(new ProcessSpec("bash", [Script(), "start"]))).EnsureSuccess();
        _env = ParseEnv(result.StandardOutputText);
    }

    public async Task DisposeAsync()
    {
        if (_env.TryGetValue("GEOSYNC_SSHD_HOME", out var home))
        {
            (await _runner.RunAsync(new ProcessSpec("bash", [Script(), "stop", home]))).EnsureSuccess();
        }
    }

    /// <summary>Options that reach this sshd as a trusted client; <c>-F none</c> keeps the machine's ssh_config out.</summary>
    public SshOptions Options(IReadOnlyList<string> remoteCommand) => new()
    {
        SshCommand = "ssh -F none",
        Port = Port,
        IdentityFile = ClientKey,
        KnownHostsFile = KnownHosts,
        RemoteCommand = remoteCommand,
    };

    /// <summary>An ssh slave URL for a directory on the loopback host.</summary>
    public GeoSyncUrl SlaveUrl(string directory) => GeoSyncUrl.Parse($"{User}@{Host}:{directory}");

    /// <summary>How many logins sshd has accepted so far; a multiplexed session adds none.</summary>
    public int AcceptedLogins() => File.ReadLines(Log).Count(line => line.StartsWith("Accepted publickey for ", StringComparison.Ordinal));

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ScriptPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{ScriptPath} not found above {AppContext.BaseDirectory}");
    }

    private static Dictionary<string, string> ParseEnv(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var (key, value) = (line[..line.IndexOf('=', StringComparison.Ordinal)], line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            values[key] = value.Length >= 2 && value[0] == '\'' && value[^1] == '\'' ? value[1..^1] : value;
        }

        return values;
    }
}

/// <summary>A fact that needs <see cref="SshdFixture"/>: skipped, with the reason, only outside CI and only when it cannot run.</summary>
public sealed class SshdFactAttribute : FactAttribute
{
    public SshdFactAttribute()
    {
        if (SshdFixture.UnavailableReason() is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// A stand-in for the geosync slave on the loopback host: records its arguments, answers <c>--version</c>, otherwise
/// copies stdin to stdout like a slave serving RePCe, and notes that it saw EOF.
/// </summary>
internal sealed class FakeSlave : IDisposable
{
    private readonly TempDirectory _dir = new("geosync-fake-slave-");

    public FakeSlave()
    {
        File.WriteAllText(Command, """
            #!/bin/sh
            here=$(dirname "$0")
            printf '%s\n' "$@" >"$here/args"
            if [ "$1" = --version ]; then echo 'fake-slave 1.0'; exit 0; fi
            cat
            echo eof >"$here/eof"
            """ + "\n");
        Assert.Equal(0, Syscall.chmod(Command, FilePermissions.S_IRWXU));
    }

    public string Command => _dir.Combine("fake-slave");

    /// <summary>The arguments the last run received, one per line.</summary>
    public string[] ReceivedArgs => File.ReadAllLines(_dir.Combine("args"));

    /// <summary>The slave read its stdin to EOF and exited by itself.</summary>
    public bool SawEof => File.Exists(_dir.Combine("eof"));

    public string Directory => _dir.Path;

    public void Dispose() => _dir.Dispose();
}

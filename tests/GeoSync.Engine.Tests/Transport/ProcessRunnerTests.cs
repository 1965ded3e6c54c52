using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using GeoSync.Engine.Transport;

namespace GeoSync.Engine.Tests.Transport;

public class ProcessRunnerTests
{
    private const int MiB = 1024 * 1024;
    private readonly ProcessRunner _runner = new();

    /// <summary>The state letter of /proc/&lt;pid&gt;/stat, or null once the pid is gone (reaped).</summary>
    private static char? ProcState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<int> ReadPidLineAsync(Stream stdout)
    {
        var text = new StringBuilder();
        var one = new byte[1];
        while (await stdout.ReadAsync(one) == 1 && one[0] != (byte)'\n')
        {
            text.Append((char)one[0]);
        }

        return int.Parse(text.ToString(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task StreamsSeveralMebibytesThroughStdinAndStdout()
    {
        var input = RandomNumberGenerator.GetBytes(8 * MiB);
        await using var cat = _runner.Start(new ProcessSpec("cat", []) { RedirectStandardInput = true, RedirectStandardOutput = true });

        var writing = Task.Run(async () =>
        {
            // Odd chunk sizes, so nothing depends on pipe-buffer alignment.
            for (var offset = 0; offset < input.Length; offset += 100_003)
            {
                await cat.StandardInput!.WriteAsync(input.AsMemory(offset, Math.Min(100_003, input.Length - offset)));
            }

            await cat.StandardInput!.DisposeAsync();
        });
        using var output = new MemoryStream();
        await cat.StandardOutput!.CopyToAsync(output);
        await writing;

        Assert.Equal(0, await cat.WaitForExitAsync());
        Assert.Equal(input.Length, output.Length);
        Assert.True(input.AsSpan().SequenceEqual(output.ToArray()), "cat's stdout differs from what was written to its stdin");
    }

    [Fact]
    public async Task KeepsExactlyTheNewestMebibyteOfStderr()
    {
        var data = RandomNumberGenerator.GetBytes(3 * MiB);
        var file = Path.Combine(Path.GetTempPath(), $"geosync-stderr-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(file, data);
        try
        {
            await using var process = _runner.Start(new ProcessSpec("sh", ["-c", "cat \"$1\" >&2", "sh", file]));

            Assert.Equal(0, await process.WaitForExitAsync());
            var (tail, allocated) = ((RunningProcess)process).StderrTailBytes;
            Assert.Equal(MiB, tail.Length);
            Assert.True(data.AsSpan(2 * MiB).SequenceEqual(tail), "the tail is not the last MiB written to stderr");
            Assert.True(allocated <= MiB, $"the tail buffer grew to {allocated} bytes");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task HonoursASmallerStderrBoundAndDecodesTheTail()
    {
        await using var process = _runner.Start(new ProcessSpec("sh", ["-c", "seq 1 100000 >&2"]) { StderrTailBytes = 20 });

        Assert.Equal(0, await process.WaitForExitAsync());
        Assert.Equal("99997\n99998\n99999\n100000\n"[^20..], process.StderrTail);
    }

    [Fact]
    public async Task MapsANonZeroExitToAnErrorCarryingArgvCodeAndStderr()
    {
        var logged = new List<string>();
        var spec = new ProcessSpec("sh", ["-c", "echo partial; echo 'no space left' >&2; echo 'giving up' >&2; exit 3"])
        {
            StderrLine = line => { lock (logged) { logged.Add(line); } },
        };

        var result = await _runner.RunAsync(spec);
        var error = Assert.Throws<GeoSyncProcessException>(() => result.EnsureSuccess());

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("partial\n", result.StandardOutputText);
        Assert.Equal(3, error.ExitCode);
        Assert.Equal(["sh", "-c", spec.Arguments[1]], error.Argv);
        Assert.Equal("no space left\ngiving up\n", error.StderrTail);
        Assert.Equal(
            $"command \"sh -c {spec.Arguments[1]}\" returned with 3, saying:\nsh> no space left\nsh> giving up",
            error.Message);
        Assert.Equal(["sh> no space left", "sh> giving up"], logged);
    }

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 1", 1)]
    [InlineData("exit 255", 255)]
    [InlineData("kill -KILL $$", 128 + 9)]
    public async Task ReportsTheExitCode(string script, int expected)
    {
        var result = await _runner.RunAsync(new ProcessSpec("sh", ["-c", script]));

        Assert.Equal(expected, result.ExitCode);
        Assert.Equal(expected == 0, Record.Exception(() => result.EnsureSuccess()) is null);
    }

    [Fact]
    public void FailureWithoutStderrSaysNothingMore()
    {
        Assert.Equal("command \"rsync -aR0 .\" returned with 23",
            ProcessResult.DescribeFailure(["rsync", "-aR0", "."], 23, ""));
    }

    [Theory]
    [InlineData("geosync-no-such-program")]
    [InlineData("/nonexistent/bin/rsync")]
    public void ReportsAMissingBinaryWithErrnoAndAnInstallHint(string program)
    {
        var error = Assert.Throws<GeoSyncProcessException>(() => _runner.Start(new ProcessSpec(program, ["--version"])));

        Assert.StartsWith($"execution of \"{program}\" failed with ENOENT (No such file or directory). Install {program}",
            error.Message, StringComparison.Ordinal);
        Assert.Equal([program, "--version"], error.Argv);
        Assert.Null(error.ExitCode);
    }

    [Fact]
    public void ReportsAMissingWorkingDirectoryAsSuch()
    {
        var error = Assert.Throws<GeoSyncProcessException>(() =>
            _runner.Start(new ProcessSpec("cat", []) { WorkingDirectory = "/nonexistent/dir" }));

        Assert.Contains("working directory /nonexistent/dir does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PassesArgumentsLiterallyWithoutAShell()
    {
        string[] arguments = ["a b", "it's", "\"quoted\"", "$HOME", "*", "", "back\\slash", "semi;colon && echo no", "tab\there"];

        var result = (await _runner.RunAsync(new ProcessSpec("printf", ["%s\\n", .. arguments]))).EnsureSuccess();

        Assert.Equal(string.Concat(arguments.Select(a => a + "\n")), result.StandardOutputText);
    }

    [Fact]
    public async Task AppliesWorkingDirectoryAndEnvironmentOverrides()
    {
        var spec = new ProcessSpec("sh", ["-c", "pwd; echo \"$GEOSYNC_TEST\"; echo \"${HOME-unset}\""])
        {
            WorkingDirectory = "/tmp",
            Environment = new Dictionary<string, string?> { ["GEOSYNC_TEST"] = "x y", ["HOME"] = null },
        };

        var result = (await _runner.RunAsync(spec)).EnsureSuccess();

        Assert.Equal("/tmp\nx y\nunset\n", result.StandardOutputText);
    }

    [Fact]
    public async Task ToleratesACommandThatStopsReadingItsInput()
    {
        var result = (await _runner.RunAsync(new ProcessSpec("head", ["-c", "5"]), new byte[4 * MiB])).EnsureSuccess();

        Assert.Equal(new byte[5], result.StandardOutput);
    }

    [Fact]
    public async Task LogsEachStderrLineWithTheProgramName()
    {
        var logged = new List<string>();
        var spec = new ProcessSpec("dd", ["if=/dev/zero", "bs=1M", "count=4", "status=noxfer"])
        {
            StderrLine = line => { lock (logged) { logged.Add(line); } },
        };

        var result = (await _runner.RunAsync(spec)).EnsureSuccess();

        Assert.Equal(4 * MiB, result.StandardOutput.Length);
        Assert.Equal(["dd> 4+0 records in", "dd> 4+0 records out"], logged);
    }

    [Fact]
    public async Task CancellationKillsTheTreeAndReapsTheChild()
    {
        using var cts = new CancellationTokenSource();
        var process = _runner.Start(new ProcessSpec("sh", ["-c", "sleep 1000 & echo $!; wait"]) { RedirectStandardOutput = true });
        await using (process)
        {
            var grandchild = await ReadPidLineAsync(process.StandardOutput!);
            Assert.True(ProcState(process.Id) is 'S' or 'R', $"sh is {ProcState(process.Id)}");

            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => process.WaitForExitAsync(cts.Token));

            Assert.Null(ProcState(process.Id));
            // The grandchild was re-parented when sh died; it is dead, though reaping it is its new parent's job.
            Assert.True(ProcState(grandchild) is null or 'Z', $"grandchild {grandchild} is still {ProcState(grandchild)}");
        }
    }

    [Fact]
    public async Task KillFollowsAnIgnoredSigtermWithSigkill()
    {
        await using var process = _runner.Start(new ProcessSpec("sh", ["-c", "trap '' TERM; echo ready; exec sleep 1000"])
        {
            RedirectStandardOutput = true,
        });
        var ready = new byte[6];
        await process.StandardOutput!.ReadExactlyAsync(ready);

        var clock = Stopwatch.StartNew();
        process.Kill();

        Assert.Null(ProcState(process.Id));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.Equal(128 + 9, await process.WaitForExitAsync());
    }

    [Fact]
    public async Task KillSendsSigtermFirst()
    {
        await using var yes = _runner.Start(new ProcessSpec("yes", ["geosync"]) { RedirectStandardOutput = true });
        var some = new byte[64 * 1024];
        await yes.StandardOutput!.ReadExactlyAsync(some);
        Assert.Equal("geosync\ngeosync\n", Encoding.ASCII.GetString(some, 0, 16));

        yes.Kill();

        Assert.Equal(128 + 15, await yes.WaitForExitAsync());
        Assert.Null(ProcState(yes.Id));
    }

    [Fact]
    public async Task DisposingARunningProcessKillsAndReapsIt()
    {
        var sleep = _runner.Start(new ProcessSpec("sleep", ["1000"]));
        Assert.NotNull(ProcState(sleep.Id));

        await sleep.DisposeAsync();

        Assert.Null(ProcState(sleep.Id));
    }

    [Fact]
    public async Task LogsAnUnterminatedLastLine()
    {
        var logged = new List<string>();
        var spec = new ProcessSpec("sh", ["-c", "printf 'first\\r\\nno newline' >&2"])
        {
            StderrLine = line => { lock (logged) { logged.Add(line); } },
        };

        (await _runner.RunAsync(spec)).EnsureSuccess();

        Assert.Equal(["sh> first", "sh> no newline"], logged);
    }

    [Fact]
    public async Task KeepsDrainingStderrWhenTheLoggerThrowsAndReportsItAfterTheExit()
    {
        var calls = 0;
        await using var process = _runner.Start(new ProcessSpec("sh", ["-c", "seq 1 300000 >&2"])
        {
            StderrLine = _ => throw new InvalidOperationException($"logger broke after {++calls} call"),
        });

        // 2 MiB of stderr: far more than a pipe holds, so a stalled pump would leave seq blocked and this wait hanging.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitForExitAsync());

        Assert.Equal("logger broke after 1 call", error.Message);
        Assert.EndsWith("299999\n300000\n", process.StderrTail, StringComparison.Ordinal);
    }
}

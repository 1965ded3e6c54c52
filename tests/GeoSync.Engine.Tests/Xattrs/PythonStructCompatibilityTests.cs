using System.Diagnostics;
using GeoSync.Engine.Xattrs;

namespace GeoSync.Engine.Tests.Xattrs;

/// <summary>The codecs against Python's own struct module, which is what gsyncd packs and unpacks with (docs/protocol.md, "Extended attributes: names and layouts").</summary>
public class PythonStructCompatibilityTests
{
    [Fact]
    public void ForeignMarkBytesMatchPythonStructPack()
    {
        const string script = """
            import struct, sys
            uuid, retval, sec, usec, expiry = sys.argv[1], *map(int, sys.argv[2:])
            fields = (1, 0) + tuple(bytes.fromhex(uuid.replace('-', ''))) + (retval, sec, usec, expiry)
            print(struct.pack('!' + 'B' * 19 + 'III', *fields).hex())
            """;
        var mark = new VolumeMark(1, 0, Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), 3, new Xtime(4000000000, 999999), 4294967295);

        var python = RunPython(script, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "3", "4000000000", "999999", "4294967295");

        Assert.Equal(python, Convert.ToHexString(mark.Encode()).ToLowerInvariant());
    }

    [Fact]
    public void PythonUnpacksOurNativeMarkAndXtime()
    {
        const string script = """
            import struct, sys
            mark, xtime = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
            v = struct.unpack('!' + 'B' * 19 + 'II', mark)
            uuid = bytes(v[2:18]).hex()
            print(v[0], v[1], '-'.join([uuid[:8], uuid[8:12], uuid[12:16], uuid[16:20], uuid[20:]]), v[18], v[19], v[20], *struct.unpack('!II', xtime))
            """;
        var mark = new VolumeMark(1, 2, Guid.Parse("fedcba98-7654-3210-0123-456789abcdef"), 0, new Xtime(1700000000, 123456), null);

        var python = RunPython(script, Convert.ToHexString(mark.Encode()), Convert.ToHexString(new Xtime(7, 8).ToBytes()));

        Assert.Equal("1 2 fedcba98-7654-3210-0123-456789abcdef 0 1700000000 123456 7 8", python);
    }

    private static string RunPython(string script, params string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python3 failed: {error}");
        return output.Trim();
    }
}

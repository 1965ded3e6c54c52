using System.ComponentModel;
using System.Diagnostics;
using Mono.Unix;
using Mono.Unix.Native;

namespace GeoSync.Engine.Transport;

/// <summary>Runs child processes from an argv with System.Diagnostics.Process; no shell is ever involved.</summary>
public sealed class ProcessRunner : IProcessRunner
{
    public IRunningProcess Start(ProcessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.StderrTailBytes, 1);

        if (spec.WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            // Checked here because exec reports a missing directory as ENOENT too, which would blame the program.
            throw new GeoSyncProcessException(
                $"cannot run \"{spec.FileName}\": its working directory {directory} does not exist. Create it or choose another.",
                spec.Argv, null, "");
        }

        var startInfo = new ProcessStartInfo(spec.FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = spec.RedirectStandardInput,
            RedirectStandardOutput = spec.RedirectStandardOutput,
            RedirectStandardError = true,
            WorkingDirectory = spec.WorkingDirectory ?? "",
        };
        foreach (var argument in spec.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw ExecutionFailed(spec, e);
        }

        return new RunningProcess(process, spec);
    }

    private static GeoSyncProcessException ExecutionFailed(ProcessSpec spec, Win32Exception e)
    {
        var errno = NativeConvert.ToErrno(e.NativeErrorCode);
        var hint = errno switch
        {
            Errno.ENOENT => $"Install {spec.FileName} (or put it on PATH), or configure the full path of the command.",
            Errno.EACCES => $"Make {spec.FileName} executable for this user, or configure another command.",
            _ => "Check the configured command and its permissions.",
        };
        return new GeoSyncProcessException(
            $"execution of \"{spec.FileName}\" failed with {errno} ({UnixMarshal.GetErrorDescription(errno)}). {hint}",
            spec.Argv, null, "", e);
    }
}

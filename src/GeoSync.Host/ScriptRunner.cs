using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Microsoft.PowerShell;
using Microsoft.PowerShell.Commands;

namespace GeoSync.Host;

/// <summary>
/// Runs a script through PowerShell's own console host (the SDK's <see cref="ConsoleShell"/>) in a session that has
/// the GeoSync module imported, so output, error rendering and exit codes are exactly those of pwsh -Command/-File.
/// </summary>
/// <summary>How much of the GeoSync module a command the host runs itself needs.</summary>
internal enum ModuleScope
{
    /// <summary>Only compiled cmdlets and their format views (status, checkpoint).</summary>
    CompiledCmdlets,

    /// <summary>The whole module, its script functions included (master, failures).</summary>
    WholeModule,
}

internal static class ScriptRunner
{
    private const int Failure = 1;
    private const int UsageError = 2;

    /// <summary>The module the build lays out next to the executable, so users get the cmdlets they know from pwsh.</summary>
    public static string ModuleManifestPath => Path.Combine(AppContext.BaseDirectory, "Modules", "GeoSync", "GeoSync.psd1");

    /// <summary>
    /// The cmdlets of PowerShell's Utility and Management modules the commands the host runs itself may reach: those
    /// the GeoSync module's scripts call, and Out-String and ConvertTo-Json, which format status and failures.
    /// tests/Host/SessionState.Tests.ps1 fails when a script calls one that is neither here nor in PowerShell's core set.
    /// </summary>
    private static readonly (string Name, Type Type)[] ModuleRunspaceCmdlets =
    [
        ("ConvertFrom-Json", typeof(ConvertFromJsonCommand)),
        ("ConvertTo-Json", typeof(ConvertToJsonCommand)),
        ("Get-ChildItem", typeof(GetChildItemCommand)),
        ("Get-Content", typeof(GetContentCommand)),
        ("Join-Path", typeof(JoinPathCommand)),
        ("New-Item", typeof(NewItemCommand)),
        ("Out-String", typeof(OutStringCommand)),
        ("Select-Object", typeof(SelectObjectCommand)),
        ("Set-Variable", typeof(SetVariableCommand)),
        ("Sort-Object", typeof(SortObjectCommand)),
        ("Split-Path", typeof(SplitPathCommand)),
        ("Start-Sleep", typeof(StartSleepCommand)),
        ("Test-Path", typeof(TestPathCommand)),
        ("Write-Progress", typeof(WriteProgressCommand)),
        ("Write-Verbose", typeof(WriteVerboseCommand)),
        ("Write-Warning", typeof(WriteWarningCommand)),
    ];

    /// <summary>
    /// The session state of the runspaces the host opens for the commands that run the whole module (master, failures):
    /// PowerShell's core set (CreateDefault2: the engine's own commands, providers, preference variables, type data)
    /// and <see cref="ModuleRunspaceCmdlets"/>, not CreateDefault's few hundred cmdlets, which cost CPU and memory at
    /// every start (docs/performance.md, "Start-up and footprint"). Without PowerShell's built-in format views: the host
    /// prints the loop's objects itself and formats only the module's own types, whose views the module brings.
    /// Scripts (-c, -f) get the full default session: they may call and format anything.
    /// </summary>
    internal static InitialSessionState ModuleSessionState()
    {
        var sessionState = InitialSessionState.CreateDefault2();
        sessionState.Formats.Clear();
        foreach (var (name, type) in ModuleRunspaceCmdlets) sessionState.Commands.Add(new SessionStateCmdletEntry(name, type, helpFileName: null));
        return sessionState;
    }

    /// <summary>The compiled half of the module: its cmdlets. The manifest nests it (NestedModules).</summary>
    internal const string CmdletAssemblyName = "GeoSync.PowerShell.dll";

    /// <summary>The module's format views (the manifest's FormatsToProcess); tests/Host/SessionState.Tests.ps1 checks both.</summary>
    internal const string FormatFileName = "GeoSync.Format.ps1xml";

    /// <summary>
    /// The session of a host command that calls only compiled cmdlets (status, checkpoint): the cmdlet assembly, the
    /// module's format views, the FileSystem provider the cmdlets resolve paths with, and Out-String and
    /// ConvertTo-Json. No script module and none of PowerShell's core set or built-in type and format data, whose
    /// loading is most of the start of a runspace (docs/performance.md, "Start-up and footprint").
    /// </summary>
    internal static InitialSessionState CompiledCmdletSessionState(string moduleBase)
    {
        var sessionState = InitialSessionState.Create();
        sessionState.Providers.Add(new SessionStateProviderEntry("FileSystem", typeof(FileSystemProvider), helpFileName: null));
        sessionState.Commands.Add(new SessionStateCmdletEntry("Out-String", typeof(OutStringCommand), helpFileName: null));
        sessionState.Commands.Add(new SessionStateCmdletEntry("ConvertTo-Json", typeof(ConvertToJsonCommand), helpFileName: null));
        sessionState.Formats.Add(new SessionStateFormatEntry(Path.Combine(moduleBase, FormatFileName)));
        sessionState.ImportPSModule(Path.Combine(moduleBase, CmdletAssemblyName));
        return sessionState;
    }

    /// <summary>
    /// An open runspace for a command the host runs itself: with <paramref name="scope"/> the whole GeoSync module (master,
    /// failures: script functions) or only its compiled cmdlets (status, checkpoint); null when the module is missing or
    /// cannot be imported, having said why on stderr.
    /// </summary>
    public static Runspace? OpenModuleRunspace(ModuleScope scope)
    {
        var manifest = ModuleManifestPath;
        if (!File.Exists(manifest))
        {
            Console.Error.WriteLine($"geosync: the GeoSync module is missing: {manifest} does not exist. Reinstall geosync; its build lays the module out next to the executable.");
            return null;
        }
        OptOutOfPwshServices();
        InitialSessionState sessionState;
        if (scope == ModuleScope.CompiledCmdlets)
        {
            sessionState = CompiledCmdletSessionState(Path.GetDirectoryName(manifest)!);
        }
        else
        {
            sessionState = ModuleSessionState();
            sessionState.ImportPSModule(manifest);
        }
        sessionState.ThrowOnRunspaceOpenError = true;
        var runspace = RunspaceFactory.CreateRunspace(sessionState);
        try
        {
            runspace.Open();
            return runspace;
        }
        catch (RuntimeException e)
        {
            runspace.Dispose();
            Console.Error.WriteLine($"geosync: could not import the GeoSync module from {manifest}: {e.Message}");
            return null;
        }
    }

    public static int Run(HostCommand command)
    {
        var manifest = ModuleManifestPath;
        if (!File.Exists(manifest))
        {
            Console.Error.WriteLine($"geosync: the GeoSync module is missing: {manifest} does not exist. Reinstall geosync; its build lays the module out next to the executable.");
            return Failure;
        }

        switch (command)
        {
            case RunScriptTextCommand text when HasParseErrors(string.Join(' ', text.ScriptWords)):
                return Failure;
            case RunScriptFileCommand file when !File.Exists(file.Path):
                Console.Error.WriteLine($"geosync: the script file '{Path.GetFullPath(file.Path)}' does not exist.");
                return UsageError;
        }

        // Scripts run unattended (cron, ssh, CI): no profile may change their behaviour and no prompt may wait for a
        // user, which is what pwsh's -NoProfile and -NonInteractive guarantee.
        string[] pwshArguments = command switch
        {
            RunScriptTextCommand text => ["-NoProfile", "-NonInteractive", "-Command", .. text.ScriptWords],
            RunScriptFileCommand file => ["-NoProfile", "-NonInteractive", "-File", file.Path, .. file.Arguments],
            _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not a script command"),
        };

        OptOutOfPwshServices();
        if (Console.IsOutputRedirected || Console.IsErrorRedirected)
        {
            // Colour codes are noise in a log file or in output another program parses.
            PSStyle.Instance.OutputRendering = OutputRendering.PlainText;
        }

        // CreateDefault, not CreateDefault2: the SDK ships no Modules folder for the built-in commands to autoload from.
        var sessionState = InitialSessionState.CreateDefault();
        sessionState.ImportPSModule(manifest);
        if (ModuleImportError(sessionState) is { } importError)
        {
            Console.Error.WriteLine($"geosync: could not import the GeoSync module from {manifest}: {importError}");
            return Failure;
        }
        return ConsoleShell.Start(sessionState, bannerText: string.Empty, helpText: HostCommandLine.Usage, pwshArguments);
    }

    /// <summary>
    /// Opens a throw-away runspace to see whether the module imports. pwsh's console host would run the script without
    /// the module (import errors silenced) or, told to throw on them, hang after reporting; so this is checked first.
    /// </summary>
    private static string? ModuleImportError(InitialSessionState sessionState)
    {
        sessionState.ThrowOnRunspaceOpenError = true;
        try
        {
            using var probe = RunspaceFactory.CreateRunspace(sessionState);
            probe.Open();
            return null;
        }
        catch (RuntimeException e)
        {
            return e.Message;
        }
        finally
        {
            sessionState.ThrowOnRunspaceOpenError = false;
        }
    }

    /// <summary>
    /// pwsh -Command exits 1 on script text that does not parse without saying why, so the errors are reported here.
    /// </summary>
    private static bool HasParseErrors(string script)
    {
        Parser.ParseInput(script, out _, out var errors);
        foreach (var error in errors)
        {
            var start = error.Extent.StartScriptPosition;
            Console.Error.WriteLine($"ParserError: line {start.LineNumber}, column {start.ColumnNumber}: {error.Message}");
            Console.Error.WriteLine($"  {start.Line.TrimEnd()}");
            Console.Error.WriteLine($"  {new string(' ', Math.Max(0, start.ColumnNumber - 1))}^");
        }
        return errors.Length > 0;
    }

    /// <summary>
    /// PowerShell reports telemetry and pwsh's console host checks for pwsh updates unless told not to; geosync is not
    /// pwsh, so it says no on the user's behalf (a value the user set is kept).
    /// </summary>
    private static void OptOutOfPwshServices()
    {
        foreach (var name in new[] { "POWERSHELL_TELEMETRY_OPTOUT", "POWERSHELL_UPDATECHECK" })
        {
            if (Environment.GetEnvironmentVariable(name) is null)
            {
                Environment.SetEnvironmentVariable(name, name == "POWERSHELL_UPDATECHECK" ? "Off" : "1");
            }
        }
    }
}

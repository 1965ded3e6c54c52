BeforeAll {
    $script:Geosync = Join-Path $PSScriptRoot '../../out/geosync/geosync'
    $script:HostModule = Join-Path $PSScriptRoot '../../out/geosync/Modules/GeoSync/GeoSync.psd1'
    $script:ModuleVersion = (Import-PowerShellDataFile -LiteralPath $HostModule).ModuleVersion

    # Runs a program with exactly these argv words and stdin closed; returns its exit code, stdout and stderr separately.
    function Invoke-Captured {
        param(
            [Parameter(Mandatory)] [string] $FilePath,
            [string[]] $ArgumentList = @(),
            [hashtable] $Environment = @{},
            [string] $WorkingDirectory = $TestDrive,
            [int] $TimeoutSeconds = 60
        )
        $info = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
        foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
        foreach ($k in $Environment.Keys) { $info.Environment[$k] = $Environment[$k] }
        $info.WorkingDirectory = $WorkingDirectory
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        try {
            $process.StandardInput.Close()
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
                $process.Kill($true)
                throw "$FilePath $ArgumentList did not exit within $TimeoutSeconds s"
            }
            $process.WaitForExit()
            [pscustomobject]@{
                ExitCode = $process.ExitCode
                StdOut   = $stdout.Result
                StdErr   = $stderr.Result
                Lines    = @($stdout.Result -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
            }
        }
        finally {
            $process.Dispose()
        }
    }

    function Invoke-Geosync {
        param(
            [string[]] $ArgumentList = @(),
            [hashtable] $Environment = @{},
            [string] $WorkingDirectory = $TestDrive,
            [int] $TimeoutSeconds = 60,
            [string] $Executable = $Geosync
        )
        Invoke-Captured -FilePath $Executable -ArgumentList $ArgumentList -Environment $Environment `
            -WorkingDirectory $WorkingDirectory -TimeoutSeconds $TimeoutSeconds
    }
}

Describe 'geosync host' {
    It 'is published by the build with the module laid out next to it' {
        $Geosync | Should -Exist
        $HostModule | Should -Exist
    }

    Context 'version and help' {
        It '--version prints geosync and the module version' {
            $r = Invoke-Geosync '--version'
            $r.ExitCode | Should -Be 0
            $r.StdOut.TrimEnd() | Should -BeExactly "geosync $ModuleVersion"
            $r.StdErr | Should -BeNullOrEmpty
        }

        It '--help lists every way to run geosync' {
            $r = Invoke-Geosync '--help'
            $r.ExitCode | Should -Be 0
            $r.StdOut | Should -Match '(?m)^\s*geosync -c <script>'
            $r.StdOut | Should -Match '(?m)^\s*geosync \[-File\] <file\.ps1> \[<arg>\.\.\.\]'
            $r.StdOut | Should -Match '(?m)^\s*geosync slave <url> --listen \[--timeout <seconds>\] \[--sync-jobs <n>\]'
            $r.StdOut | Should -Match '(?m)^\s*geosync --version'
            $r.StdOut | Should -Match '(?m)^\s*geosync --help'
            $r.StdOut | Should -Match 'Exit codes'
        }

        It 'rejects <Case> with exit code 2 and a pointer to --help' -ForEach @(
            @{ Case = 'no arguments'; Words = @(); Message = 'no command given' }
            @{ Case = 'an unknown option'; Words = @('--frobnicate'); Message = "unknown option '--frobnicate'" }
            @{ Case = '-c without a script'; Words = @('-c'); Message = '-c needs the script text' }
            @{ Case = 'slave without --listen'; Words = @('slave', 'file:///tmp'); Message = '--listen is required' }
            @{ Case = 'slave without a URL'; Words = @('slave', '--listen'); Message = 'URL of the slave root is missing' }
            @{ Case = 'slave with two URLs'; Words = @('slave', 'file:///a', 'file:///b', '--listen'); Message = 'takes one URL' }
            @{ Case = 'slave with --session-owner but no value'; Words = @('slave', 'file:///tmp', '--listen', '--session-owner'); Message = '--session-owner needs a value' }
            @{ Case = 'a negative --timeout'; Words = @('slave', 'file:///tmp', '--listen', '--timeout', '-1'); Message = '--timeout takes a whole number of at least 0' }
            @{ Case = 'zero --sync-jobs'; Words = @('slave', 'file:///tmp', '--listen', '--sync-jobs', '0'); Message = '--sync-jobs takes a whole number of at least 1' }
        ) {
            $r = Invoke-Geosync $Words
            $r.ExitCode | Should -Be 2
            $r.StdErr | Should -Match ([regex]::Escape($Message))
            $r.StdErr | Should -Match "Run 'geosync (slave )?--help' for usage"
            $r.StdOut | Should -BeNullOrEmpty
        }
    }

    Context '-c' {
        It 'writes the output as text on stdout and exits 0' {
            $r = Invoke-Geosync '-c', '1..3; "done"'
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @('1', '2', '3', 'done')
            $r.StdErr | Should -BeNullOrEmpty
        }

        It 'formats objects as pwsh does, without colour codes when redirected' {
            $r = Invoke-Geosync '-c', '[pscustomobject]@{ Name = "alpha"; Size = 42 }'
            $r.ExitCode | Should -Be 0
            $r.Lines[0] | Should -Match '^Name\s+Size$'
            $r.Lines[2] | Should -Match '^alpha\s+42$'
            $r.StdOut | Should -Not -Match "`e"
        }

        It 'imports the GeoSync module from its own Modules folder' {
            $r = Invoke-Geosync '-c', '$m = Get-Module GeoSync; $m.Version.ToString(); $m.ModuleBase'
            $r.ExitCode | Should -Be 0
            $r.Lines[0] | Should -BeExactly $ModuleVersion
            $r.Lines[1] | Should -BeExactly (Split-Path (Resolve-Path -LiteralPath $HostModule).ProviderPath)
        }

        It 'runs without pwsh on PATH' {
            $r = Invoke-Geosync '-c', '[bool](Get-Command pwsh -ErrorAction Ignore); (Get-Module GeoSync).Name' -Environment @{ PATH = '/usr/bin:/bin' }
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @('False', 'GeoSync')
        }

        It 'passes the words after the script text on, as pwsh -Command does' {
            $r = Invoke-Geosync '-c', 'Write-Output', 'left', 'right'
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @('left', 'right')
        }

        It 'exits with the N of exit N' {
            $r = Invoke-Geosync '-c', '"before"; exit 3; "after"'
            $r.ExitCode | Should -Be 3
            $r.Lines | Should -Be @('before')
        }

        It 'exits 1 with the error on stderr when the last statement fails' {
            $r = Invoke-Geosync '-c', 'Write-Error "disk on fire"'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'disk on fire'
            $r.StdOut | Should -BeNullOrEmpty
        }

        It 'exits 0 but still reports the error when a later statement succeeds' {
            $r = Invoke-Geosync '-c', 'Write-Error "transient"; "recovered"'
            $r.ExitCode | Should -Be 0
            $r.StdErr | Should -Match 'transient'
            $r.Lines | Should -Be @('recovered')
        }

        It 'exits 1 on a terminating error and names it on stderr' {
            $r = Invoke-Geosync '-c', '"partial"; throw "cannot reach the slave"; "never"'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'cannot reach the slave'
            $r.Lines | Should -Be @('partial')
        }

        It 'exits 1 and says where when the script does not parse' {
            $r = Invoke-Geosync '-c', '1 +'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match "ParserError: line 1, column 4: .*'\+' operator"
        }

        It 'does not wait for a user when a prompt is needed' {
            $r = Invoke-Geosync '-c', 'Read-Host "name"' -TimeoutSeconds 30
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'NonInteractive'
        }
    }

    Context 'a broken installation' {
        BeforeEach {
            # A copy of the published host whose module folder can be damaged. The geosync files are copied (the .NET
            # host takes the base directory from the real path of geosync.dll); the libraries are only linked.
            $script:Broken = Join-Path $TestDrive "broken-$([guid]::NewGuid().ToString('N'))"
            $null = New-Item -ItemType Directory -Path $Broken
            $published = Split-Path $Geosync
            foreach ($item in Get-ChildItem -LiteralPath $published | Where-Object { $_.Name -ne 'Modules' -and $_.Name -notlike 'geosync*' }) {
                $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Broken $item.Name) -Target $item.FullName
            }
            Copy-Item -Path (Join-Path $published 'geosync*') -Destination $Broken
            Copy-Item -LiteralPath (Join-Path $published 'Modules') -Destination $Broken -Recurse
            $script:BrokenManifest = Join-Path $Broken 'Modules/GeoSync/GeoSync.psd1'
        }

        It 'the copy works before it is damaged' {
            $r = Invoke-Geosync '-c', '(Get-Module GeoSync).ModuleBase' -Executable (Join-Path $Broken 'geosync')
            $r.ExitCode | Should -Be 0
            $r.Lines | Should -Be @(Split-Path $BrokenManifest)
        }

        It 'exits 1 naming the manifest when the module does not import' {
            Set-Content -LiteralPath $BrokenManifest -Value '@{ ModuleVersion = '
            $r = Invoke-Geosync '-c', '"must not run"' -Executable (Join-Path $Broken 'geosync') -TimeoutSeconds 30
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match ('could not import the GeoSync module from ' + [regex]::Escape($BrokenManifest))
            $r.StdOut | Should -BeNullOrEmpty
        }

        It 'exits 1 naming the path when the module is missing' {
            Remove-Item -LiteralPath (Join-Path $Broken 'Modules') -Recurse
            $r = Invoke-Geosync '-c', '"must not run"' -Executable (Join-Path $Broken 'geosync')
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match ([regex]::Escape($BrokenManifest) + ' does not exist')
            $r.StdOut | Should -BeNullOrEmpty
        }
    }

    Context 'script files' {
        BeforeAll {
            $script:ParamScript = Join-Path $TestDrive 'report.ps1'
            Set-Content -LiteralPath $ParamScript -Value @'
param([string] $Name, [int] $Count, [switch] $Loud, [Parameter(ValueFromRemainingArguments)] [string[]] $Rest)
[pscustomobject]@{ Name = $Name; Count = $Count; Loud = [bool]$Loud; Rest = $Rest -join ','; Root = $PSScriptRoot } | ConvertTo-Json -Compress
'@
        }

        It 'binds named, switch and positional arguments and exits 0' {
            $r = Invoke-Geosync $ParamScript, '-Name', 'vol1', '-Count:4', '-Loud', 'extra1', 'extra2'
            $r.ExitCode | Should -Be 0
            $result = $r.StdOut | ConvertFrom-Json
            $result.Name | Should -BeExactly 'vol1'
            $result.Count | Should -Be 4
            $result.Loud | Should -BeTrue
            $result.Rest | Should -BeExactly 'extra1,extra2'
            $result.Root | Should -BeExactly (Split-Path $ParamScript)
        }

        It 'accepts -File before the path and -Switch:$false' {
            $r = Invoke-Geosync '-File', $ParamScript, 'positional', '-Loud:$false'
            $r.ExitCode | Should -Be 0
            $result = $r.StdOut | ConvertFrom-Json
            $result.Name | Should -BeExactly 'positional'
            $result.Loud | Should -BeFalse
        }

        It 'runs a relative path from the working directory' {
            $r = Invoke-Geosync './report.ps1', 'rel' -WorkingDirectory $TestDrive
            $r.ExitCode | Should -Be 0
            ($r.StdOut | ConvertFrom-Json).Name | Should -BeExactly 'rel'
        }

        It 'exits with the N of exit N' {
            $path = Join-Path $TestDrive 'exit7.ps1'
            Set-Content -LiteralPath $path -Value '"working"', 'exit 7', '"unreachable"'
            $r = Invoke-Geosync $path
            $r.ExitCode | Should -Be 7
            $r.Lines | Should -Be @('working')
        }

        It 'exits 1 with the error and its location on stderr when the script throws' {
            $path = Join-Path $TestDrive 'fails.ps1'
            Set-Content -LiteralPath $path -Value '"step 1"', 'throw "slave volume is not mounted"'
            $r = Invoke-Geosync $path
            $r.ExitCode | Should -Be 1
            $r.Lines | Should -Be @('step 1')
            $r.StdErr | Should -Match 'slave volume is not mounted'
            $r.StdErr | Should -Match 'fails\.ps1:2'
        }

        It 'exits 1 when a parameter does not exist' {
            $path = Join-Path $TestDrive 'strict.ps1'
            Set-Content -LiteralPath $path -Value '[CmdletBinding()] param([string] $Name)', '"ran with $Name"'
            $r = Invoke-Geosync $path, '-NoSuchParameter', 'x'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'NoSuchParameter'
            $r.StdOut | Should -BeNullOrEmpty
        }

        It 'reports a non-terminating error on stderr and exits 0, as pwsh -File does' {
            $path = Join-Path $TestDrive 'soft.ps1'
            Set-Content -LiteralPath $path -Value 'Write-Error "one file skipped"'
            $r = Invoke-Geosync $path
            $r.ExitCode | Should -Be 0
            $r.StdErr | Should -Match 'one file skipped'
        }

        It 'exits 2 and names the file when it does not exist' {
            $r = Invoke-Geosync (Join-Path $TestDrive 'missing.ps1')
            $r.ExitCode | Should -Be 2
            $r.StdErr | Should -Match ([regex]::Escape((Join-Path $TestDrive 'missing.ps1')))
            $r.StdErr | Should -Match 'does not exist'
        }
    }
}

Describe 'geosync slave' {
    BeforeAll {
        $script:Driver = Join-Path $PSScriptRoot '../interop/slave_session.py'
        # One gsyncd-format log line (docs/protocol.md, "Transport"): [YYYY-MM-DD HH:MM:SS.uuuuuu] <L> [<module>(slave):<line>:<function>] <Class>: <msg>
        $script:LogLine = '^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\] [DIWE] \[\w+\(slave\):\d+:\w+\] \w+: .+$'
        # The pickle of struct.pack('!II', 1700000000, 123456): the xtime the calls scenario sets.
        $script:SetXtimeHex = '6553f1000001e240'

        # Runs one scenario of the python3 driver against a fresh slave root and returns what it observed.
        function Invoke-SlaveSession {
            param(
                [Parameter(Mandatory)] [string] $Scenario,
                [string[]] $Extra = @()
            )
            $root = Join-Path $TestDrive "$Scenario-$([guid]::NewGuid().ToString('N'))/root"
            $null = New-Item -ItemType Directory -Path $root
            $r = Invoke-Captured -FilePath 'python3' -TimeoutSeconds 180 -ArgumentList (
                @($Driver, '--geosync', (Resolve-Path -LiteralPath $Geosync).ProviderPath, '--root', $root) + $Extra + @($Scenario))
            if ($r.ExitCode -ne 0) { throw "slave_session.py $Scenario failed with exit code $($r.ExitCode): $($r.StdErr)" }
            $result = $r.StdOut | ConvertFrom-Json
            $result | Add-Member -NotePropertyName RootPath -NotePropertyValue $root -PassThru
        }

        function Get-LogLines([string] $Text) { @($Text -split "`n" | Where-Object { $_ }) }
    }

    Context 'a Python 3 master' {
        BeforeAll {
            $script:Session = Invoke-SlaveSession -Scenario calls
        }

        It 'answers the handshake: __repce_version__ and version are 1.0' {
            $Session.repce_version | Should -Be 1.0
            $Session.version | Should -Be 1.0
        }

        It 'answers pid with its own process id and works in the root directory, like gsyncd' {
            $Session.pid | Should -Be $Session.process_pid
            $Session.cwd | Should -BeExactly $Session.root
        }

        It 'counts keep_alive(None) calls: 1, then 2' {
            $Session.keep_alive | Should -Be @(1, 2)
        }

        It 'creates directories and symlinks and lists entries' {
            $Session.mkdir | Should -BeNullOrEmpty
            $Session.symlink | Should -BeNullOrEmpty
            $Session.tree_is_dir | Should -BeTrue
            $Session.link_target | Should -BeExactly '../elsewhere/target'
            $Session.entries_root | Should -Be @('tree')
            $Session.entries_tree | Should -Be @('link', 'sub')
        }

        It 'raises OSError with errno 2 for entries of a missing directory' {
            $Session.entries_missing.type | Should -Be 'FileNotFoundError'
            $Session.entries_missing.errno | Should -Be 2
        }

        It 'returns xtime errnos as integers: 61 without the xattr, 2 without the path' {
            $Session.xtime_unset | Should -Be 61
            $Session.xtime_missing_path | Should -Be 2
        }

        It 'stores set_xtime as the packed big-endian xattr and reads it back' {
            $Session.set_xtime | Should -BeNullOrEmpty
            $Session.xtime_after_set | Should -Be @(1700000000, 123456)
            $Session.xattr_on_disk | Should -BeExactly $SetXtimeHex
        }

        It 'purges the named entries of a directory' {
            $Session.purge | Should -BeNullOrEmpty
            $Session.tree_exists_after_purge | Should -BeFalse
            $Session.entries_after_purge | Should -BeNullOrEmpty
        }

        It 'refuses paths outside the root with ValueError(unsafe path)' {
            foreach ($refusal in $Session.unsafe_absolute, $Session.unsafe_dotdot) {
                $refusal.type | Should -Be 'ValueError'
                $refusal.args | Should -Be @('unsafe path')
            }
        }

        It 'answers <Name> with AttributeError and keeps the connection' -ForEach @(
            @{ Name = 'a method starting with _'; Key = 'underscore_method' }
            @{ Name = '__init__'; Key = 'dunder_method' }
            @{ Name = 'an unknown method'; Key = 'unknown_method' }
        ) {
            $Session.$Key.type | Should -Be 'AttributeError'
            $Session.version_after_errors | Should -Be 1.0
        }

        It 'exits 0 when the master closes its end' {
            $Session.exit_code | Should -Be 0
        }

        It 'logs to stderr in the gsyncd format with the slave label' {
            $lines = Get-LogLines $Session.stderr
            $lines | Should -Not -BeNullOrEmpty
            foreach ($line in $lines) { $line | Should -Match $LogLine }
            $Session.stderr | Should -Match 'serving .* over RePCe on stdin/stdout with 3 workers'
            $Session.stderr | Should -Match "entries failed: .*unsafe path"
        }
    }

    Context 'pipelined requests' {
        BeforeAll {
            $script:Pipelined = Invoke-SlaveSession -Scenario pipelined
        }

        It 'answers every request exactly once, matched by rid' {
            $Pipelined.sent | Should -Be 40
            $Pipelined.answered_rids | Should -Be 40
            $Pipelined.answers_per_rid | Should -Be @(1)
            $Pipelined.unknown_rids | Should -Be 0
        }

        It 'gives each request its own answer' {
            $Pipelined.keep_alive | Should -Be (1..10)
            $Pipelined.pids | Should -Be @($Pipelined.process_pid)
            $Pipelined.entries.Count | Should -Be 1
            $Pipelined.entries[0] | Should -Be @('a', 'b', 'c')
            $Pipelined.xtimes | Should -Be @(61)
            $Pipelined.exit_code | Should -Be 0
        }
    }

    Context 'concurrent calls' {
        It 'with --sync-jobs <Jobs> a quick call written after a slow purge is answered <When>' -ForEach @(
            @{ Jobs = 3; When = 'first'; Order = @('version', 'purge') }
            @{ Jobs = 1; When = 'second'; Order = @('purge', 'version') }
        ) {
            $r = Invoke-SlaveSession -Scenario concurrency -Extra '--sync-jobs', "$Jobs"
            $r.order | Should -Be $Order
            $r.big_exists | Should -BeFalse
            $r.exit_code | Should -Be 0
            $r.stderr | Should -Match "with $Jobs workers"
        }
    }

    Context 'a hostile frame' {
        It 'never runs the GLOBAL os.system of a frame sent as <Variant>, logs a protocol error and exits 1' -ForEach @(
            @{ Variant = 'top' }
            @{ Variant = 'argument' }
        ) {
            $r = Invoke-SlaveSession -Scenario hostile -Extra '--variant', $Variant
            $r.control_marker_created | Should -BeTrue -Because 'the same frame runs the command in CPython, so the test is live'
            $r.version_before | Should -Be 1.0
            $r.marker_created | Should -BeFalse
            $r.exit_code | Should -Be 1
            $r.stderr | Should -Match 'protocol error'
            $r.stderr | Should -Not -Match 'Unhandled exception'
            foreach ($line in Get-LogLines $r.stderr) { $line | Should -Match $LogLine }
        }
    }

    Context 'a Python 2 master' {
        BeforeAll {
            $script:Py2 = Invoke-SlaveSession -Scenario python2
        }

        It 'answers byte-string requests with byte strings' {
            $Py2.version | Should -Be 1.0
            $Py2.mkdir | Should -BeNullOrEmpty
            $Py2.dir_on_disk | Should -BeTrue
            $Py2.entries | Should -Be @("b'py2dir'")
            $Py2.entries_opcodes | Should -Contain 'SHORT_BINSTRING'
            $Py2.entries_opcodes | Should -Not -Contain 'BINUNICODE'
        }

        It 'echoes the rid of the spec example frame and answers its xtime with 61' {
            $Py2.spec_rid | Should -Be @('1234', '140000000000', '1700000000.5')
            $Py2.spec_xtime | Should -Be 61
        }

        It 'raises ValueError with a byte-string message for an unsafe path' {
            $Py2.unsafe.is_exception | Should -BeTrue
            $Py2.unsafe.type | Should -Be 'ValueError'
            $Py2.unsafe.args | Should -Be @("b'unsafe path'")
            $Py2.unsafe_opcodes | Should -Not -Contain 'BINUNICODE'
        }

        It 'raises AttributeError for a method starting with _' {
            $Py2.underscore.is_exception | Should -BeTrue
            $Py2.underscore.type | Should -Be 'AttributeError'
            $Py2.exit_code | Should -Be 0
        }
    }

    Context 'start-up' {
        It 'ends itself after --timeout seconds without a keep-alive: logs it and exits 0' {
            $root = Join-Path $TestDrive 'timeout-root'
            $null = New-Item -ItemType Directory -Path $root -Force
            # stdin stays open: only the watchdog can end this slave.
            $info = [System.Diagnostics.ProcessStartInfo]::new($Geosync)
            foreach ($a in 'slave', "file://$root", '-N', '--listen', '--timeout', '1', '--session-owner', '6b9c1f3e-0a64-4c1d-9f0e-3d2a5b7c8e91') { $info.ArgumentList.Add($a) }
            $info.RedirectStandardInput = $true
            $info.RedirectStandardOutput = $true
            $info.RedirectStandardError = $true
            $process = [System.Diagnostics.Process]::Start($info)
            try {
                $stderr = $process.StandardError.ReadToEndAsync()
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $process.WaitForExit(20000) | Should -BeTrue -Because 'the watchdog must end a slave nobody keeps alive'
                $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
                $process.ExitCode | Should -Be 0
                $stderr.Result | Should -Match 'I \[.*\] Slave: connection inactive for 1 seconds, stopping'
                $stderr.Result | Should -Match 'for master volume 6b9c1f3e-0a64-4c1d-9f0e-3d2a5b7c8e91'
                foreach ($line in Get-LogLines $stderr.Result) { $line | Should -Match $LogLine }
            }
            finally {
                if (-not $process.HasExited) { $process.Kill($true) }
                $process.Dispose()
            }
        }

        It 'keeps serving while keep-alives arrive within --timeout' {
            $root = Join-Path $TestDrive 'keepalive-root'
            $null = New-Item -ItemType Directory -Path $root -Force
            # A master that sends keep_alive(None) every 0.3 s for 2.5 s, then stays silent with its end still open.
            $master = @"
import pickle, subprocess, sys, time
slave = subprocess.Popen(['$Geosync', 'slave', 'file://$root', '--listen', '--timeout', '1'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def keep_alive(n):
    slave.stdin.write(pickle.dumps(((1, n, 0.0), 'keep_alive', None), 2)); slave.stdin.flush()
    rid, failed, count = pickle.load(slave.stdout)
    assert not failed and count == n, (failed, count)
# The clock starts once the slave answered (its start-up is slow on a loaded machine, and is no keep-alive interval).
n = 1
keep_alive(n)
start = time.time()
while time.time() - start < 2.5:
    time.sleep(0.3)
    n += 1
    keep_alive(n)
alive_after_keep_alives = slave.poll() is None
code = slave.wait(timeout=15)
print(alive_after_keep_alives, n, round(time.time() - start, 1), code)
"@
            $r = Invoke-Captured -FilePath 'python3' -ArgumentList '-c', $master -TimeoutSeconds 60
            $r.ExitCode | Should -Be 0 -Because $r.StdErr
            $alive, $count, $elapsed, $code = $r.StdOut.Trim() -split ' '
            $alive | Should -Be 'True'
            [int]$count | Should -BeGreaterOrEqual 3
            [double]$elapsed | Should -BeGreaterOrEqual 2.5
            $code | Should -Be '0'
        }

        It 'exits 1 naming the URL when <Case>' -ForEach @(
            @{ Case = 'the directory does not exist'; Url = 'file:///nonexistent/geosync-slave-root'; Message = 'the directory /nonexistent/geosync-slave-root does not exist' }
            @{ Case = 'the path is a file'; Url = 'file:///etc/hostname'; Message = '/etc/hostname is not a directory' }
            @{ Case = 'its volume cannot be mounted (no glusterfs)'; Url = 'gluster://localhost:svol'; Extra = @('--gluster-command-dir', '/nonexistent/geosync-bin'); Message = "'glusterfs' was not found in /nonexistent/geosync-bin" }
            @{ Case = 'it is an ssh URL'; Url = 'ssh://root@localhost:file:///srv/replica'; Message = "not supported here.*'geosync slave file:///srv/replica --listen' on root@localhost" }
        ) {
            $r = Invoke-Geosync (@('slave', $Url, '--listen') + @($(if ($Extra) { $Extra })))
            $r.ExitCode | Should -Be 1
            $r.StdOut | Should -BeNullOrEmpty
            $r.StdErr | Should -Match ([regex]::Escape("cannot serve $Url"))
            $r.StdErr | Should -Match $Message
            foreach ($line in Get-LogLines $r.StdErr) { $line | Should -Match $LogLine }
        }

        It 'exits 1 with the parser''s reason for a malformed URL' {
            $r = Invoke-Geosync 'slave', 'gluster://', '--listen'
            $r.ExitCode | Should -Be 1
            $r.StdErr | Should -Match 'gluster://'
            $r.StdErr | Should -Match 'Accepted forms'
        }
    }
}

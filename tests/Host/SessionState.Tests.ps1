BeforeAll {
    $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
    $script:HostModuleBase = Join-Path (Split-Path $Geosync) 'Modules/GeoSync'
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')

    . (Join-Path $PSScriptRoot 'GeosyncProcess.ps1')
}

Describe 'the session geosync runs the module in' {
    It 'has every command the module''s scripts call: its own, or one of the built-in cmdlets it lists' {
        # The host's own commands (master, status, checkpoint) open a session with only the built-in cmdlets it lists
        # (ScriptRunner.ModuleSessionState); a script calling one that is missing would fail only when that line runs.
        # The list is read from the built host, as it runs, through reflection.
        $assembly = [System.Reflection.Assembly]::LoadFrom((Join-Path (Split-Path $Geosync) 'geosync.dll'))
        $method = $assembly.GetType('GeoSync.Host.ScriptRunner', $true).GetMethod('ModuleSessionState', [System.Reflection.BindingFlags]'NonPublic, Static')
        $sessionState = [System.Management.Automation.Runspaces.InitialSessionState] $method.Invoke($null, @())
        $builtIn = @($sessionState.Commands | ForEach-Object Name)
        $builtIn | Should -Contain 'Out-String' -Because 'geosync status formats the status view with it'
        @($sessionState.Providers | ForEach-Object Name) | Should -Contain 'FileSystem'
        @($sessionState.Variables | ForEach-Object Name) | Should -Contain 'WhatIfPreference'

        $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $HostModuleBase 'GeoSync.psd1')
        $errors = $null
        $script = [System.Management.Automation.Language.Parser]::ParseFile((Join-Path $HostModuleBase 'GeoSync.psm1'), [ref] $null, [ref] $errors)
        $errors | Should -BeNullOrEmpty
        $functions = @($script.FindAll({ $args[0] -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true) | ForEach-Object Name)
        $functions | Should -Contain 'Invoke-GeoSyncMaster'
        $called = @($script.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true) |
                ForEach-Object { $_.GetCommandName() } | Sort-Object -Unique)
        $called | Should -Not -BeNullOrEmpty
        $missing = @($called | Where-Object { $_ -notin $functions -and $_ -notin $manifest.CmdletsToExport -and $_ -notin $builtIn })
        $missing | Should -BeNullOrEmpty -Because 'each built-in cmdlet the module calls must be in ScriptRunner.ModuleRunspaceCmdlets'
    }

    It 'gives status and checkpoint the module''s cmdlet assembly and format views, as the manifest names them' {
        # Status and checkpoint skip the script module and PowerShell's core set (ScriptRunner.CompiledCmdletSessionState);
        # the files they load instead are named in the host, so they must stay the manifest's.
        $assembly = [System.Reflection.Assembly]::LoadFrom((Join-Path (Split-Path $Geosync) 'geosync.dll'))
        $runner = $assembly.GetType('GeoSync.Host.ScriptRunner', $true)
        $flags = [System.Reflection.BindingFlags]'NonPublic, Static'
        $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $HostModuleBase 'GeoSync.psd1')
        $manifest.NestedModules | Should -Contain $runner.GetField('CmdletAssemblyName', $flags).GetValue($null)
        $manifest.FormatsToProcess | Should -Contain $runner.GetField('FormatFileName', $flags).GetValue($null)

        $sessionState = [System.Management.Automation.Runspaces.InitialSessionState] $runner.GetMethod('CompiledCmdletSessionState', $flags).Invoke($null, @([string] $HostModuleBase))
        @($sessionState.Providers | ForEach-Object Name) | Should -Be @('FileSystem')
        @($sessionState.Commands | ForEach-Object Name | Sort-Object) | Should -Be @('ConvertTo-Json', 'Out-String')
        @($sessionState.Formats | ForEach-Object FileName) | Should -Be @((Join-Path $HostModuleBase 'GeoSync.Format.ps1xml'))
    }

    It 'runs master, status (its format view and JSON), checkpoint and failures' {
        $master = Join-Path $TestDrive 'm'
        $slave = Join-Path $TestDrive 's'
        $state = Join-Path $TestDrive 'state'
        $null = New-Item -ItemType Directory -Path (Join-Path $master 'd'), $slave
        Set-Content -LiteralPath (Join-Path $master 'd/a.txt') -Value 'a' -NoNewline

        $dry = Invoke-Geosync 'master', "file://$master", "file://$slave", '--dry-run', '--state-dir', $state
        $dry.ExitCode | Should -Be 0 -Because $dry.StdErr
        $dry.StdOut | Should -Match 'd/a\.txt'
        $dry.StdErr | Should -BeNullOrEmpty

        $run = Invoke-Geosync 'master', "file://$master", "file://$slave", '--once', '--verbose', '--state-dir', $state
        $run.ExitCode | Should -Be 0 -Because $run.StdErr
        $run.StdOut | Should -Match 'turn 1: 1 files \(1 bytes\) synced'
        $run.StdErr | Should -Match 'VERBOSE: '
        $run.StdErr | Should -Not -Match '(?m)^ERROR: ' -Because 'the session has the preference variables the script reads'

        # A second run: the state file and the slave exist, so the loop takes the paths of a restart.
        $again = Invoke-Geosync 'master', "file://$master", "file://$slave", '--once', '--state-dir', $state
        $again.ExitCode | Should -Be 0 -Because $again.StdErr
        $again.StdErr | Should -BeNullOrEmpty
        Get-Content -LiteralPath (Join-Path $slave 'd/a.txt') -Raw | Should -Be 'a'

        $status = Invoke-Geosync 'status', '--state-dir', $state
        $status.ExitCode | Should -Be 0 -Because $status.StdErr
        $status.StdOut | Should -Match '(?m)^\(ad hoc pair\)\s+Stopped\b.*\b1 files\b'
        $status.StdOut | Should -Match ('(?m)^\s+master\s+file://' + [regex]::Escape($master))
        $json = Invoke-Geosync 'status', '--state-dir', $state, '--json'
        $json.ExitCode | Should -Be 0 -Because $json.StdErr
        @($json.StdOut | ConvertFrom-Json)[0].FilesSynced | Should -Be 1

        $failures = Invoke-Geosync 'failures', "file://$master", "file://$slave", '--state-dir', $state
        $failures.ExitCode | Should -Be 0 -Because $failures.StdErr
    }

    It 'checkpoints a named replication' {
        $state = Join-Path $TestDrive 'named'
        $master = Join-Path $TestDrive 'nm'
        $slave = Join-Path $TestDrive 'ns'
        $null = New-Item -ItemType Directory -Path $master, $slave
        $create = Invoke-Geosync 'create', 'nightly', "file://$master", "file://$slave", '--state-dir', $state
        $create.ExitCode | Should -Be 0 -Because $create.StdErr
        $set = Invoke-Geosync 'checkpoint', 'nightly', 'now', '--state-dir', $state
        $set.ExitCode | Should -Be 0 -Because $set.StdErr
        $set.StdOut | Should -Match '^checkpoint of nightly: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'
    }

    It 'gives scripts (-c) the full default session: any built-in cmdlet, the module''s commands and its format views' {
        $state = Join-Path $TestDrive 'script-state'
        $null = New-Item -ItemType Directory -Path $state
        $r = Invoke-Geosync '-c', @'
(Resolve-GeoSyncUrl -Url 'file:///srv/data').Scheme
[ordered]@{ a = 1 } | ConvertTo-Json -Compress
(Get-Date -Year 2001 -Month 2 -Day 3).ToString('yyyy-MM-dd')
(Get-Command Invoke-GeoSyncMaster).CommandType
(Get-FormatData -TypeName GeoSync.Engine.Operations.ReplicationStatus).TypeNames
'@
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $lines = @($r.StdOut -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
        $lines | Should -Be @('File', '{"a":1}', '2001-02-03', 'Function', 'GeoSync.Engine.Operations.ReplicationStatus')
    }
}

BeforeAll {
    $script:ModulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).Path
    Import-Module $ModulePath -Force
    . (Join-Path $PSScriptRoot '../Integration/Testbed.ps1')
    $script:Pwsh = @(Get-PwshCommand)

    # Runs pwsh with the module on a script; stdin closed. Returns the exit code and both outputs.
    function Invoke-PwshSlave {
        param([Parameter(Mandatory)] [string] $Script)
        $info = [System.Diagnostics.ProcessStartInfo]::new($Pwsh[0])
        foreach ($a in @($Pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$ModulePath'; $Script")) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($info)
        try {
            $process.StandardInput.Close()
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit(60000)) { $process.Kill($true); throw "pwsh did not exit within 60 s: $Script" }
            $process.WaitForExit()
            [pscustomobject]@{ ExitCode = $process.ExitCode; StdOut = $stdout.Result; StdErr = $stderr.Result }
        }
        finally {
            $process.Dispose()
        }
    }
}

Describe 'Invoke-GeoSyncSlave' {
    It 'serves a whole session as the child slave of a master, from pwsh' {
        $master = Join-Path $TestDrive 'master'
        $slave = Join-Path $TestDrive 'slave'
        $null = New-Item -ItemType Directory -Path (Join-Path $master 'sub'), $slave
        Set-Content -LiteralPath (Join-Path $master 'sub/file.txt') -Value 'served by pwsh' -NoNewline
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $master 'link') -Target 'sub/file.txt'
        # The session starts its child with gsyncd's slave options and the URL last; pwsh takes the URL and the timeout.
        $wrapper = Join-Path $TestDrive 'pwsh-slave.sh'
        $pwshWords = ($Pwsh | ForEach-Object { "'$_'" }) -join ' '
        Set-Content -LiteralPath $wrapper -Value @"
#!/bin/bash
url="`${@: -1}"
exec $pwshWords -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; Invoke-GeoSyncSlave -Url '`$url' -Timeout 30"
"@
        & chmod +x $wrapper

        $session = Start-GeoSyncSession -Master "file://$master" -Slave "file://$slave" -SlaveMode Child -SlaveCommand $wrapper
        try {
            $cmdline = (Get-Content -LiteralPath "/proc/$($session.SlaveProcessId)/cmdline" -Raw) -replace "`0", ' '
            $cmdline | Should -Match 'Invoke-GeoSyncSlave'
            $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false
            $turn.FilesSynced | Should -Be 1
            $turn.EntriesCreated | Should -Be 2
        }
        finally {
            $slavePid = $session.SlaveProcessId
            $session | Stop-GeoSyncSession -Confirm:$false
        }
        Get-Content -LiteralPath (Join-Path $slave 'sub/file.txt') -Raw | Should -Be 'served by pwsh'
        (Get-Item -LiteralPath (Join-Path $slave 'link')).Target | Should -Be 'sub/file.txt'
        Wait-Condition { -not (Test-Path -LiteralPath "/proc/$slavePid") } -Seconds 10 | Should -BeTrue -Because 'the slave ends when the master closes its input'
    }

    It 'ends with SlaveFailed and the reason on stderr when the directory is missing' {
        $missing = Join-Path $TestDrive 'missing'
        $r = Invoke-PwshSlave "Invoke-GeoSyncSlave -Url 'file://$missing'"
        $r.ExitCode | Should -Be 1
        $r.StdErr | Should -Match "\] E \[SlaveHost\(slave\):\d+:\w+\] Slave: cannot serve file://$([regex]::Escape($missing)): the directory $([regex]::Escape($missing)) does not exist"
        $r.StdErr | Should -Match 'SlaveFailed|could not start'
        $r.StdOut | Should -BeNullOrEmpty
    }

    It 'returns when its input ends, having written nothing on stdout' {
        $dir = Join-Path $TestDrive 'served'
        $null = New-Item -ItemType Directory -Path $dir
        $r = Invoke-PwshSlave "Invoke-GeoSyncSlave -Url '$dir'"
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -BeNullOrEmpty
        $r.StdErr | Should -Match "Slave: serving $([regex]::Escape($dir)) over RePCe on stdin/stdout with 3 workers"
    }

    It '-WhatIf serves nothing' {
        $r = Invoke-PwshSlave "Invoke-GeoSyncSlave -Url '$TestDrive' -WhatIf"
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -Match 'What if: .*Serve the slave'
        $r.StdErr | Should -BeNullOrEmpty
    }
}

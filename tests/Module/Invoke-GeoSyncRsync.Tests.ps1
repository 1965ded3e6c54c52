BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:CommandId = 'GeoSync.PowerShell.Commands.InvokeGeoSyncRsyncCommand'
    $script:Fixed = @('-aR0', '--files-from=-', '--super', '--numeric-ids', '--no-implied-dirs')

    function New-TestTree {
        param([string[]] $Files)
        $root = Join-Path $TestDrive ([guid]::NewGuid())
        $source = New-Item -ItemType Directory -Path (Join-Path $root 'src')
        $destination = New-Item -ItemType Directory -Path (Join-Path $root 'dst')
        foreach ($file in $Files) {
            $path = Join-Path $source $file
            $null = New-Item -ItemType Directory -Path (Split-Path $path) -Force
            Set-Content -LiteralPath $path -Value "content of $file" -NoNewline
        }
        [pscustomobject]@{ Root = $root; Source = $source.FullName; Destination = $destination.FullName }
    }

    # An rsync_command that logs each start to a file, then runs the real rsync; with -Gate, every start waits until
    # the gate file exists, so all paths are queued before the first rsync reads its list.
    function New-RsyncWrapper {
        param([string] $Directory, [switch] $Gate)
        $log = Join-Path $Directory 'rsync-starts.log'
        $pids = Join-Path $Directory 'rsync-pids.log'
        $gateFile = Join-Path $Directory 'gate'
        $wrapper = Join-Path $Directory 'rsync-wrapper.sh'
        $wait = if ($Gate) { "while [ ! -e '$gateFile' ]; do sleep 0.05; done" } else { ':' }
        Set-Content -LiteralPath $wrapper -Value "#!/bin/sh`necho `$`$ >>'$pids'`n$wait`necho start >>'$log'`nexec rsync `"`$@`"`n"
        & chmod 755 $wrapper
        [pscustomobject]@{ Command = $wrapper; Log = $log; Pids = $pids; Gate = $gateFile }
    }

    function Get-Starts {
        param($Wrapper)
        if (Test-Path -LiteralPath $Wrapper.Log) { @(Get-Content -LiteralPath $Wrapper.Log).Count } else { 0 }
    }
}

Describe 'Invoke-GeoSyncRsync' {
    Context 'syncing' {
        It 'syncs relative paths from the pipeline and outputs one result per file' {
            $tree = New-TestTree 'a/b/one.txt', 'a/two.txt', 'three.txt'

            $results = 'a/b/one.txt', 'a/two.txt', 'three.txt' |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination

            $results | Should -HaveCount 3
            $results | Should -BeOfType GeoSync.PowerShell.GeoSyncRsyncResult
            ($results.RelativePath | Sort-Object) | Should -Be @('a/b/one.txt', 'a/two.txt', 'three.txt')
            $results | ForEach-Object {
                $_.Succeeded | Should -BeTrue
                $_.Status | Should -Be 'Synced'
                $_.Attempts | Should -Be 1
                $_.Reason | Should -BeNullOrEmpty
                Get-Content -LiteralPath (Join-Path $tree.Destination $_.RelativePath) -Raw | Should -Be "content of $($_.RelativePath)"
            }
        }

        It 'keeps mode and modification time' {
            $tree = New-TestTree 'x/script.sh'
            $file = Join-Path $tree.Source 'x/script.sh'
            & chmod 741 $file
            (Get-Item -LiteralPath $file).LastWriteTimeUtc = [datetime]::new(2021, 5, 6, 7, 8, 9, [DateTimeKind]::Utc)

            $null = Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -Path 'x/script.sh'

            $copy = Get-Item -LiteralPath (Join-Path $tree.Destination 'x/script.sh')
            $copy.UnixFileMode | Should -Be (Get-Item -LiteralPath $file).UnixFileMode
            $copy.LastWriteTimeUtc | Should -Be ([datetime]::new(2021, 5, 6, 7, 8, 9, [DateTimeKind]::Utc))
        }

        It 'binds FullName from Get-ChildItem and RelativePath by property name' {
            $tree = New-TestTree 'd/one', 'd/two', 'top'

            $fromFiles = Get-ChildItem -LiteralPath $tree.Source -File -Recurse |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination
            $fromObjects = [pscustomobject]@{ RelativePath = 'top' } |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination

            ($fromFiles.RelativePath | Sort-Object) | Should -Be @('d/one', 'd/two', 'top')
            $fromFiles.Succeeded | Should -Not -Contain $false
            $fromObjects.RelativePath | Should -Be 'top'
            $fromObjects.Succeeded | Should -BeTrue
        }

        It 'resolves -Source against the current location' {
            $tree = New-TestTree 'rel.txt'
            Push-Location -LiteralPath $tree.Root
            try {
                $result = Invoke-GeoSyncRsync -Source 'src' -Destination 'dst' -Path 'rel.txt'
            }
            finally {
                Pop-Location
            }

            $result.Succeeded | Should -BeTrue
            Join-Path $tree.Destination 'rel.txt' | Should -Exist
        }

        It 'batches a stream of paths into few rsyncs, never one per file' {
            $names = 0..199 | ForEach-Object { 'd{0}/f{1}.txt' -f ($_ % 5), $_ }
            $tree = New-TestTree $names
            $wrapper = New-RsyncWrapper -Directory $tree.Root -Gate

            $summary = & { $names; $null = New-Item -ItemType File -Path $wrapper.Gate } |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -RsyncCommand $wrapper.Command `
                    -SyncJobs 2 -BatchSize 50 -Summary

            $summary | Should -BeOfType GeoSync.PowerShell.GeoSyncRsyncSummary
            $summary.Synced | Should -Be 200
            $summary.Files | Should -Be 200
            (Get-ChildItem -LiteralPath $tree.Destination -File -Recurse) | Should -HaveCount 200
            # Each job's first run may be small; then the queued paths go 50 at a time.
            Get-Starts $wrapper | Should -Be $summary.RsyncRuns
            $summary.RsyncRuns | Should -BeLessOrEqual (2 + 200 / 50)
        }
    }

    Context 'per-file failures' {
        It 'fails only the files rsync named and writes an error for each' {
            $tree = New-TestTree 'ok/one', 'gone', 'blocked'
            Remove-Item -LiteralPath (Join-Path $tree.Source 'gone')
            $null = New-Item -ItemType Directory -Path (Join-Path $tree.Destination 'blocked/occupied') -Force

            $results = 'ok/one', 'gone', 'blocked' |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -ErrorVariable errors -ErrorAction SilentlyContinue

            $byPath = @{}
            $results | ForEach-Object { $byPath[$_.RelativePath] = $_ }
            $byPath['ok/one'].Succeeded | Should -BeTrue
            $byPath['gone'].Status | Should -Be 'Vanished'
            $byPath['gone'].Attempts | Should -Be 1
            $byPath['gone'].Reason | Should -Match 'link_stat ".*/gone" failed: No such file or directory'
            $byPath['blocked'].Status | Should -Be 'Failed'
            $byPath['blocked'].Attempts | Should -Be 2
            $byPath['blocked'].Reason | Should -Match 'could not make way for new regular file: blocked'

            $errors | Should -HaveCount 2
            $vanished = $errors | Where-Object FullyQualifiedErrorId -EQ "RsyncSourceVanished,$CommandId"
            $vanished.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $vanished.TargetObject | Should -Be 'gone'
            $failed = $errors | Where-Object FullyQualifiedErrorId -EQ "RsyncFileFailed,$CommandId"
            $failed.CategoryInfo.Category | Should -Be 'WriteError'
            $failed.TargetObject | Should -Be 'blocked'
            $failed.Exception.Message | Should -Match 'could not make way'
        }

        It 'honours -Retries' {
            $tree = New-TestTree 'blocked'
            $null = New-Item -ItemType Directory -Path (Join-Path $tree.Destination 'blocked/occupied') -Force

            $result = Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -Path 'blocked' -Retries 3 -ErrorAction SilentlyContinue

            $result.Attempts | Should -Be 4
        }

        It 'rejects <Path> with PathOutsideSource and syncs the rest' -TestCases @(
            @{ Path = '../escape' }
            @{ Path = 'a/../../escape' }
            @{ Path = '/etc/passwd' }
        ) {
            $tree = New-TestTree 'inside'

            $results = $Path, 'inside' |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -ErrorVariable errors -ErrorAction SilentlyContinue

            $results.RelativePath | Should -Be 'inside'
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be "PathOutsideSource,$CommandId"
            $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errors[0].TargetObject | Should -Be $Path
            Join-Path $tree.Root 'escape' | Should -Not -Exist
        }

        It 'accepts an absolute path inside -Source and rejects -Source itself' {
            $tree = New-TestTree 'abs.txt'

            $results = (Join-Path $tree.Source 'abs.txt'), $tree.Source, './' |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -ErrorVariable errors -ErrorAction SilentlyContinue

            $results.RelativePath | Should -Be 'abs.txt'
            $errors | Should -HaveCount 2
            $errors.FullyQualifiedErrorId | Should -Be @("InvalidPath,$CommandId", "InvalidPath,$CommandId")
        }
    }

    Context '-WhatIf and -Summary' {
        It '-WhatIf runs no rsync, outputs nothing and leaves the destination untouched' {
            $tree = New-TestTree 'a/one', 'two'
            $wrapper = New-RsyncWrapper -Directory $tree.Root

            $output = 'a/one', 'two' |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -RsyncCommand $wrapper.Command -WhatIf

            $output | Should -BeNullOrEmpty
            Get-ChildItem -LiteralPath $tree.Destination -Force | Should -BeNullOrEmpty
            Get-Starts $wrapper | Should -Be 0

            # The same call without -WhatIf does run the wrapper: the check above can fail.
            $null = 'a/one', 'two' | Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -RsyncCommand $wrapper.Command
            Get-Starts $wrapper | Should -BeGreaterThan 0
        }

        It '-Summary outputs one object with the totals and still writes per-file errors' {
            $tree = New-TestTree 'one', 'two', 'gone'
            Remove-Item -LiteralPath (Join-Path $tree.Source 'gone')

            $output = 'one', 'two', 'gone' |
                Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -Summary -ErrorVariable errors -ErrorAction SilentlyContinue

            $output | Should -HaveCount 1
            $output.Files | Should -Be 3
            $output.Synced | Should -Be 2
            $output.Vanished | Should -Be 1
            $output.Failed | Should -Be 0
            $output.Bytes | Should -Be ('content of one'.Length + 'content of two'.Length)
            $output.RsyncRuns | Should -BeGreaterOrEqual 1
            $output.Source | Should -Be $tree.Source
            $errors.FullyQualifiedErrorId | Should -Be "RsyncSourceVanished,$CommandId"
        }
    }

    Context 'terminating errors' {
        It 'stops with RsyncFailed carrying argv, exit code and stderr for an option rsync rejects' {
            $tree = New-TestTree 'f'

            $err = { 'f' | Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -RsyncOptions '--sparse --no-such-option' } |
                Should -Throw -ErrorId "RsyncFailed,$CommandId" -PassThru

            $err.CategoryInfo.Category | Should -Be 'InvalidResult'
            $err.TargetObject | Should -Be $tree.Destination
            $err.Exception | Should -BeOfType GeoSync.Engine.GeoSyncRsyncException
            $err.Exception.ExitCode | Should -Be 1
            $err.Exception.Argv | Should -Be (@('rsync') + $Fixed + @('--sparse', '--no-such-option', '.', $tree.Destination))
            $err.Exception.StderrTail | Should -Match 'no-such-option'
            $err.Exception.Message | Should -Match 'returned with 1, saying:'
        }

        It 'stops with RsyncNotInstalled when the rsync program does not exist' {
            $tree = New-TestTree 'f'

            $err = { 'f' | Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -RsyncCommand '/nonexistent/rsync' } |
                Should -Throw -ErrorId "RsyncNotInstalled,$CommandId" -PassThru

            $err.CategoryInfo.Category | Should -Be 'NotInstalled'
            $err.TargetObject | Should -Be '/nonexistent/rsync'
            $err.ErrorDetails.RecommendedAction | Should -Match 'Install rsync'
        }

        It 'stops with <Id> for a missing <Which> directory' -TestCases @(
            @{ Id = 'SourceNotFound'; Which = 'source' }
            @{ Id = 'DestinationNotFound'; Which = 'destination' }
        ) {
            $tree = New-TestTree 'f'
            $missing = Join-Path $tree.Root 'missing'
            $arguments = @{ Source = $tree.Source; Destination = $tree.Destination; Path = 'f' }
            $arguments[$(if ($Which -eq 'source') { 'Source' } else { 'Destination' })] = $missing

            $err = { Invoke-GeoSyncRsync @arguments } | Should -Throw -ErrorId "$Id,$CommandId" -PassThru

            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be $missing
        }

        It 'refuses an rsync daemon destination with InvalidDestination' {
            $tree = New-TestTree 'f'
            { Invoke-GeoSyncRsync -Source $tree.Source -Destination 'host::module' -Path 'f' } |
                Should -Throw -ErrorId "InvalidDestination,$CommandId"
        }
    }

    Context 'ssh destinations (the argv; a real sshd is tested with the session)' {
        # "false" stands in for ssh: rsync starts it, it exits, and rsync fails with 12 showing the exact argv.
        It 'passes -e with the ssh command and control socket, the ssh options and host:path' {
            $tree = New-TestTree 'f'

            $err = { 'f' | Invoke-GeoSyncRsync -Source $tree.Source -Destination 'geo@backup.invalid:/srv/copy' `
                    -SshCommand 'false  -oBatchMode=yes' -ControlPath '/tmp/ctl/%C' -RsyncSshOptions '--compress --bwlimit=100' -Xattrs } |
                Should -Throw -ErrorId "RsyncFailed,$CommandId" -PassThru

            $err.Exception.ExitCode | Should -Be 12
            $err.Exception.Argv | Should -Be (@('rsync') + $Fixed + @(
                    '--sparse', '--xattrs', '.', '-e', 'false -oBatchMode=yes -oControlMaster=auto -S /tmp/ctl/%C',
                    '--compress', '--bwlimit=100', 'geo@backup.invalid:/srv/copy'))
        }

        It 'uses a private control directory by default and removes it afterwards' {
            $tree = New-TestTree 'f'

            $err = { 'f' | Invoke-GeoSyncRsync -Source $tree.Source -Destination 'backup.invalid:/srv/copy' -SshCommand 'false' } |
                Should -Throw -ErrorId "RsyncFailed,$CommandId" -PassThru

            $argv = @($err.Exception.Argv)
            $shell = $argv[[array]::IndexOf($argv, '-e') + 1]
            $shell -match '^false -oControlMaster=auto -S (?<dir>/\S+/gsyncd-aux-ssh-\w{6})/%C$' | Should -BeTrue -Because $shell
            $Matches.dir | Should -Not -BeLike '*XXXXXX'
            Test-Path -LiteralPath $Matches.dir | Should -BeFalse
            $argv[-2..-1] | Should -Be @('--compress', 'backup.invalid:/srv/copy')
        }

        It 'refuses a control path with blanks' {
            $tree = New-TestTree 'f'
            { Invoke-GeoSyncRsync -Source $tree.Source -Destination 'host:/x' -ControlPath '/tmp/a b/%C' -Path 'f' } |
                Should -Throw -ErrorId "InvalidDestination,$CommandId"
        }
    }

    Context 'stopping' {
        It 'stops promptly when the pipeline is stopped and kills the running rsync' {
            $tree = New-TestTree 'f'
            $wrapper = New-RsyncWrapper -Directory $tree.Root -Gate
            $ps = [powershell]::Create()
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')).AddStatement()
            $null = $ps.AddCommand('Invoke-GeoSyncRsync').AddParameters(@{
                    Source = $tree.Source; Destination = $tree.Destination; Path = 'f'; RsyncCommand = $wrapper.Command
                })
            try {
                $null = $ps.BeginInvoke()
                # The wrapper waits for a gate that never opens: the rsync job is running when the pipeline is stopped.
                $deadline = [datetime]::UtcNow.AddSeconds(30)
                while (-not (Test-Path -LiteralPath $wrapper.Pids)) {
                    [datetime]::UtcNow | Should -BeLessThan $deadline -Because 'the rsync job never started'
                    Start-Sleep -Milliseconds 20
                }
                $rsyncPid = [int](Get-Content -LiteralPath $wrapper.Pids | Select-Object -First 1)

                $ps.Stop()

                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                # Killed with its process tree (SIGTERM, then SIGKILL after a grace) and reaped.
                $deadline = [datetime]::UtcNow.AddSeconds(30)
                while (Test-Path -LiteralPath "/proc/$rsyncPid") {
                    [datetime]::UtcNow | Should -BeLessThan $deadline -Because "the rsync job $rsyncPid was not killed"
                    Start-Sleep -Milliseconds 20
                }
                Get-Starts $wrapper | Should -Be 0
            }
            finally {
                $ps.Dispose()
            }
        }
    }

    Context 'streams' {
        It 'shows the rsync argv and stderr on the debug stream and each run on the verbose stream' {
            $tree = New-TestTree 'f'
            Remove-Item -LiteralPath (Join-Path $tree.Source 'f')
            $DebugPreference = 'Continue'

            $records = 'f' | Invoke-GeoSyncRsync -Source $tree.Source -Destination $tree.Destination -Verbose -ErrorAction SilentlyContinue 5>&1 4>&1

            $debug = @($records | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message
            $verbose = @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
            $debug | Should -Contain "rsync argv: rsync $($Fixed -join ' ') --sparse . $($tree.Destination)"
            $debug | Where-Object { $_ -match '^rsync> rsync: \[sender\] link_stat' } | Should -Not -BeNullOrEmpty
            $verbose | Should -Contain "Queued 'f' for rsync to $($tree.Destination)."
            $verbose | Where-Object { $_ -match '^rsync exited with 23 for 1 files in .* 0 synced, 0 failed, 1 vanished, 0 to retry\.$' } |
                Should -Not -BeNullOrEmpty
        }
    }
}

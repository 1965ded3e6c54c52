#requires -Version 7.4
<#
.SYNOPSIS
    The start-up benchmark (a script, not a test): how long `geosync` takes to start the commands that run the module,
    and how much memory they hold.
.DESCRIPTION
    For -Rounds rounds it runs, interleaved and rotating which goes first:
      - `geosync -c 1`: host, runspace with the module, one script (the console host's path, as -c and -f take it);
      - `geosync status --state-dir <empty directory>`: the host's own runspace, one module command, the format view;
      - `geosync --version`: the floor, the .NET start and the host alone, no PowerShell;
      - with -SyncedFiles N (100), `geosync master file://M file://S --once` over a tree of N small files that is
        already on the slave: the master loop's start (runspace, script module, the loop's first call, the session)
        and one turn with nothing to do. Each build gets its own slave and state directory, synced before the
        rounds. The turn's own time (from the turn line) is printed next to it; the rest is the start-up portion.
    Each run is a whole process as a user or cron starts it. For each it prints the median wall time, the median CPU
    time (user + system, which a loaded machine inflates less than the wall time) and the median peak RSS, all as GNU
    time (/usr/bin/time) reports them.
    With -MasterFiles it also writes a tree of that many empty files (1,000 per directory) under -WorkDirectory and
    runs `geosync master file://TREE file://EMPTY --once` once, printing its time and the peak RSS of the whole process
    tree (geosync and its rsync children), then removes the trees.
.PARAMETER Rounds
    Rounds of the commands (7).
.PARAMETER SyncedFiles
    Files in the already synced tree of the `master --once` rounds (100; 0: no such rounds).
.PARAMETER MasterFiles
    Files in the tree of the master run (0: no master run).
.PARAMETER WorkDirectory
    Where the state directory and the trees go (on a disk, not tmpfs, by default under /var/tmp).
.PARAMETER Geosync
    The geosync to measure (this worktree's out/geosync/geosync).
.PARAMETER Baseline
    Another geosync (an earlier build copied aside) to run in the same rounds, each command next to the same command
    of -Geosync, alternating which goes first; adds the median of the paired ratios -Geosync / -Baseline.
.EXAMPLE
    dotnet pwsh tests/bench/Measure-Startup.ps1 -Rounds 9
.EXAMPLE
    dotnet pwsh tests/bench/Measure-Startup.ps1 -Rounds 7 -Baseline /var/tmp/geosync-before/geosync
.EXAMPLE
    dotnet pwsh tests/bench/Measure-Startup.ps1 -Rounds 3 -MasterFiles 200000
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 100)] [int] $Rounds = 7,
    [ValidateRange(0, 100000)] [int] $SyncedFiles = 100,
    [ValidateRange(0, 10000000)] [int] $MasterFiles = 0,
    [string] $WorkDirectory = "/var/tmp/geosync-startup-bench-$PID",
    [string] $Geosync = (Join-Path $PSScriptRoot '../../out/geosync/geosync'),
    [string] $Baseline
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Geosync = (Resolve-Path -LiteralPath $Geosync).Path
if ($Baseline) { $Baseline = (Resolve-Path -LiteralPath $Baseline).Path }
if (-not (Test-Path -LiteralPath '/usr/bin/time')) { throw 'GNU time (/usr/bin/time, Debian package time) is needed: apt-get install time' }

. (Join-Path $PSScriptRoot 'BenchTools.ps1')

# The resident set of a process and all its descendants, in KiB (0 once it is gone).
function Get-TreeRss([int] $Root) {
    $children = @{}
    foreach ($stat in Get-ChildItem -Path '/proc/[0-9]*/stat' -ErrorAction Ignore) {
        $text = try { [IO.File]::ReadAllText($stat.FullName) } catch { continue }
        # pid (comm) state ppid ...: the command name may hold blanks and parentheses, so split after the last ')'.
        $fields = $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
        $children[[int]$fields[1]] += @([int]$stat.Directory.Name)
    }
    $total = 0
    $pending = [Collections.Generic.Queue[int]]::new()
    $pending.Enqueue($Root)
    while ($pending.Count) {
        $id = $pending.Dequeue()
        $status = try { [IO.File]::ReadAllLines("/proc/$id/status") } catch { @() }
        $rss = $status | Where-Object { $_ -like 'VmRSS:*' }
        if ($rss) { $total += [int]($rss -split '\s+')[1] }
        foreach ($child in @($children[$id])) { if ($child) { $pending.Enqueue($child) } }
    }
    $total
}

# Runs geosync with $Arguments under GNU time; returns wall and CPU seconds and the peak RSS in KiB: of geosync itself,
# as the kernel counts it, or with -SampleTree of its whole process tree, sampled from /proc.
function Measure-Geosync([string[]] $Arguments, [switch] $SampleTree, [string] $Program = $Geosync) {
    $times = Join-Path $WorkDirectory 'time.txt'
    $info = [Diagnostics.ProcessStartInfo]::new('/usr/bin/time')
    foreach ($argument in @('-o', $times, '-f', '%e %U %S %M', $Program) + $Arguments) { $info.ArgumentList.Add($argument) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    $peak = 0
    while ($SampleTree -and -not $process.HasExited) {
        $peak = [Math]::Max($peak, (Get-TreeRss -Root $process.Id))
        Start-Sleep -Milliseconds 200
    }
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw "geosync $Arguments exited $($process.ExitCode): $($stderr.Result)" }
    $wall, $user, $system, $maxRss = (Get-Content -LiteralPath $times | Select-Object -Last 1).Split(' ')
    [pscustomobject]@{
        Seconds = [double]$wall
        Cpu     = [double]$user + [double]$system
        PeakKiB = [Math]::Max($peak, [int]$maxRss)
        Output  = $stdout.Result
    }
}

try {
    $stateDirectory = Join-Path $WorkDirectory 'state'
    $null = New-Item -ItemType Directory -Path $stateDirectory -Force
    $commands = [ordered]@{
        'geosync -c 1'                 = @('-c', '1')
        'geosync status --state-dir D' = @('status', '--state-dir', $stateDirectory)
        'geosync --version (floor)'    = @('--version')
    }
    $programs = @($Geosync) + @($Baseline | Where-Object { $_ })
    $masterName = 'geosync master M S --once (synced)'
    if ($SyncedFiles -gt 0) {
        # One master tree of small files; a slave and a state directory per build, synced by that build before the rounds.
        $syncedMaster = Join-Path $WorkDirectory 'synced-master'
        $null = New-Item -ItemType Directory -Path $syncedMaster -Force
        for ($k = 0; $k -lt $SyncedFiles; $k++) { [IO.File]::WriteAllText((Join-Path $syncedMaster "f$k"), "$k`n") }
        $masterArguments = @{}
        for ($k = 0; $k -lt $programs.Count; $k++) {
            $slaveDirectory = Join-Path $WorkDirectory "synced-slave-$k"
            $null = New-Item -ItemType Directory -Path $slaveDirectory -Force
            $masterArguments[$programs[$k]] = @('master', "file://$syncedMaster", "file://$slaveDirectory", '--once', '--state-dir', (Join-Path $WorkDirectory "synced-state-$k"))
            $null = Measure-Geosync -Arguments $masterArguments[$programs[$k]] -Program $programs[$k]
        }
        $commands[$masterName] = $masterArguments
    }
    $names = @($commands.Keys)
    $results = @{}
    foreach ($name in $names) { foreach ($program in $programs) { $results["$program $name"] = [Collections.Generic.List[object]]::new() } }
    $load = (Get-Content -LiteralPath '/proc/loadavg' -Raw).Split(' ')[0..2] -join ' '
    Write-Host "geosync: $Geosync$(if ($Baseline) { "; baseline: $Baseline" }); $Rounds rounds; load average before: $load; $([Environment]::ProcessorCount) cores"
    for ($round = 0; $round -lt $Rounds; $round++) {
        # Rotate which command goes first, and alternate which build, so drift in the machine's speed favours none.
        for ($i = 0; $i -lt $names.Count; $i++) {
            $name = $names[($i + $round) % $names.Count]
            $order = if ($round % 2 -and $Baseline) { @($programs[1], $programs[0]) } else { $programs }
            foreach ($program in $order) {
                $arguments = if ($commands[$name] -is [hashtable]) { $commands[$name][$program] } else { $commands[$name] }
                $results["$program $name"].Add((Measure-Geosync -Arguments $arguments -Program $program))
            }
        }
    }
    $load = (Get-Content -LiteralPath '/proc/loadavg' -Raw).Split(' ')[0..2] -join ' '
    Write-Host "load average after: $load"
    $table = foreach ($name in $names) {
        foreach ($program in $programs) {
            $runs = $results["$program $name"]
            $row = [ordered]@{
                Build     = if ($program -eq $Geosync) { 'geosync' } else { 'baseline' }
                Command   = $name
                WallMedS  = [Math]::Round((Get-Median $runs.Seconds), 3)
                WallMinS  = [Math]::Round(($runs.Seconds | Measure-Object -Minimum).Minimum, 3)
                CpuMedS   = [Math]::Round((Get-Median $runs.Cpu), 3)
                RssMedMB  = [Math]::Round((Get-Median $runs.PeakKiB) / 1024, 1)
            }
            if ($Baseline) {
                # The median of the paired ratios: each round's run of -Geosync over the baseline's run next to it.
                $theirs = $results["$Baseline $name"]
                $mine = $results["$Geosync $name"]
                $mine = if ($program -eq $Geosync) { $mine } else { $null }
                $row.WallRatio = if ($mine) { [Math]::Round((Get-Median @(for ($k = 0; $k -lt $Rounds; $k++) { $mine[$k].Seconds / $theirs[$k].Seconds })), 2) }
                $row.CpuRatio = if ($mine) { [Math]::Round((Get-Median @(for ($k = 0; $k -lt $Rounds; $k++) { $mine[$k].Cpu / $theirs[$k].Cpu })), 2) }
            }
            [pscustomobject]$row
        }
    }
    $table | Format-Table -AutoSize | Out-String -Width 160 | Write-Host
    if ($SyncedFiles -gt 0) {
        # The turn line ends with the turn's own time; the rest of the wall time is the loop's start and its end.
        foreach ($program in $programs) {
            $runs = $results["$program $masterName"]
            $turns = @(foreach ($run in $runs) {
                    if ($run.Output -notmatch ' failures, ([0-9.]+) s') { throw "no turn line in: $($run.Output)" }
                    [double]$Matches[1]
                })
            $startups = @(for ($k = 0; $k -lt $runs.Count; $k++) { $runs[$k].Seconds - $turns[$k] })
            Write-Host ("{0}, master --once over {1} synced files: turn median {2:0.000} s, wall minus turn (start-up portion) median {3:0.000} s, fastest {4:0.000} s" -f
                $(if ($program -eq $Geosync) { 'geosync' } else { 'baseline' }), $SyncedFiles, (Get-Median $turns), (Get-Median $startups), ($startups | Measure-Object -Minimum).Minimum)
        }
    }

    if ($MasterFiles -gt 0) {
        $master = Join-Path $WorkDirectory 'master'
        $slave = Join-Path $WorkDirectory 'slave'
        $null = New-Item -ItemType Directory -Path $master, $slave -Force
        Write-Host "Writing $MasterFiles empty files under $master ..."
        & bash -c 'set -eu; cd "$1"; n=$2; for (( d = 0; d * 1000 < n; d++ )); do mkdir "d$d"; c=$(( n - d * 1000 < 1000 ? n - d * 1000 : 1000 )); (cd "d$d" && seq -f "f%g" 1 "$c" | xargs touch); done' bash $master $MasterFiles
        if ($LASTEXITCODE -ne 0) { throw 'writing the master tree failed' }
        $run = Measure-Geosync -SampleTree -Arguments @('master', "file://$master", "file://$slave", '--once', '--state-dir', (Join-Path $WorkDirectory 'master-state'))
        Write-Host ("geosync master --once, {0} empty files: {1:0.0} s, CPU {2:0.0} s, peak RSS of the process tree {3:0.0} MB" -f
            $MasterFiles, $run.Seconds, $run.Cpu, ($run.PeakKiB / 1024))
    }
}
finally {
    if (Test-Path -LiteralPath $WorkDirectory) { Remove-Item -LiteralPath $WorkDirectory -Recurse -Force }
}

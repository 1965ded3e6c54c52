#requires -Version 7.4
<#
.SYNOPSIS
    The GeoSync benchmark (a script, not a test) of change latency on a GlusterFS master: how long after 20 changes
    (10 files modified, 10 new) were written to mvol they are all on the slave, with `geosync master` running as a loop.
.DESCRIPTION
    Writes a tree of -Directories directories of -FilesPerDirectory small files into the testbed's one-brick master
    volume mvol through a normal GlusterFS mount (so the marker stamps xtimes as for any application). Then, for each
    slave kind (-Slave: a local directory, the testbed's slave volume svol, or both), it runs blocks of -Changes change
    rounds. A block starts `geosync master gluster://…:mvol SLAVE --interval -Interval` of one build (a process, as users
    run it), waits until it caught up, and then, per round, waits a second, writes 10 modified and 10 new files spread
    over the first -ChangedDirectories directories, and polls the slave (the directory, or svol's brick, which is where
    a one-brick volume's files are) every 10 ms until all 20 hold their new content. The latency is the time from the
    end of the writes to that moment; it includes the loop's pause between idle turns (up to -Interval).
    Two builds are compared when -Before is given (a geosync executable, e.g. a copy of out/geosync/geosync built from
    the commit before a change): blocks alternate A B B A …, so a machine whose load drifts moves both. It prints each
    build's median and worst latency per slave kind and the median of the paired blocks' median ratios (after/before),
    and the turn times the loop printed. Each round's latency is also split (Wait-Arrived -TurnLog in BenchTools.ps1):
    when the first turn that synced something started, counted from the end of the writes (negative: during them), how
    many turns synced something and how long they took — so the wait for the loop and the turns can be told apart; and
    the idle turns the loop narrated (--verbose). Then it removes the tree.
    Needs root and the testbed (brought up when missing, and then left up). Run it under the testbed lock:
    flock -o /var/tmp/geosync-tb.lock dotnet pwsh tests/bench/Measure-GlusterChangeLatency.ps1
.PARAMETER FilesPerDirectory
    Files in each directory of the tree (500): every entry of a changed directory is compared each turn, so this is
    what a turn's cost grows with.
.PARAMETER Directories
    Directories in the tree (10).
.PARAMETER ChangedDirectories
    Directories the 20 changes are spread over (4).
.PARAMETER Changes
    Change rounds per block (3).
.PARAMETER Blocks
    Blocks per build and slave kind (2).
.PARAMETER Slave
    Directory, Gluster (svol) or Both (the default).
.PARAMETER Interval
    The loop's --interval (1, its default).
.PARAMETER Before
    A geosync executable to compare with (the "before" build); without it only the current build is measured.
.PARAMETER Geosync
    The geosync executable measured ("after"; default out/geosync/geosync of this repository).
.EXAMPLE
    cp -a out /var/tmp/out-before   # before the change, then rebuild
    flock -o /var/tmp/geosync-tb.lock dotnet pwsh tests/bench/Measure-GlusterChangeLatency.ps1 -Before /var/tmp/out-before/geosync/geosync
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 100000)] [int] $FilesPerDirectory = 500,
    [ValidateRange(1, 1000)] [int] $Directories = 10,
    [ValidateRange(1, 20)] [int] $ChangedDirectories = 4,
    [ValidateRange(1, 100)] [int] $Changes = 3,
    [ValidateRange(1, 20)] [int] $Blocks = 2,
    [ValidateSet('Directory', 'Gluster', 'Both')] [string] $Slave = 'Both',
    [ValidateRange(0, 60)] [double] $Interval = 1,
    [string] $Before,
    [string] $Geosync = (Join-Path $PSScriptRoot '../../out/geosync/geosync')
)

$ErrorActionPreference = 'Stop'


if (-not [Environment]::IsPrivilegedProcess) { throw 'The benchmark needs root (GlusterFS FUSE mounts in the testbed namespace).' }
if ($ChangedDirectories -gt $Directories) { throw "-ChangedDirectories ($ChangedDirectories) cannot exceed -Directories ($Directories)." }
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$testbedScript = Join-Path $repo 'tests/testbed/testbed.sh'
. (Join-Path $repo 'tests/Integration/Testbed.ps1')
. (Join-Path $PSScriptRoot 'BenchTools.ps1')

& bash $testbedScript status *> $null
if ($LASTEXITCODE -ne 0) {
    & bash $testbedScript up > $null
    if ($LASTEXITCODE -ne 0) { throw "bringing up the testbed failed ($testbedScript up exited $LASTEXITCODE)" }
}
$tb = Import-GlusterTestbed
$builds = [ordered]@{}
if ($Before) { $builds['before'] = (Resolve-Path -LiteralPath $Before).Path }
$builds['after'] = (Resolve-Path -LiteralPath $Geosync).Path
$masterUrl = "gluster://$($tb.SERVER):$($tb.MVOL)"
$kinds = if ($Slave -eq 'Both') { @('Directory', 'Gluster') } else { @($Slave) }

$work = (New-Item -ItemType Directory -Path "/var/tmp/geosync-latency-$PID").FullName
$normal = Mount-TestbedVolume -Testbed $tb -Volume $tb.MVOL -Name "latency-normal-$PID"
$tree = "latency-$PID"
$changedDirs = 0..($ChangedDirectories - 1) | ForEach-Object { 'd{0:D2}' -f $_ }

# Where a master path shows on the slave: the directory, or svol's (only) brick.
function Get-SlavePath([string] $Kind, [string] $Tool, [string] $Relative) {
    if ($Kind -eq 'Directory') { Join-Path $work "slave-$Tool/$Relative" } else { Join-Path $tb.SVOL_BRICK $Relative }
}

# Resolved when Wait-Arrived calls it, in the loop below that sets $kind and $tool.
$slavePathOf = { param([string] $Relative) Get-SlavePath $kind $tool $Relative }

function Start-Loop([string] $Kind, [string] $Tool) {
    $slaveUrl = if ($Kind -eq 'Directory') { "file://$(Join-Path $work "slave-$Tool")" } else { "gluster://$($tb.SERVER):$($tb.SVOL)" }
    if ($Kind -eq 'Directory') { $null = New-Item -ItemType Directory -Path (Join-Path $work "slave-$Tool") -Force }
    $log = Join-Path $work "loop-$Kind-$Tool-$([DateTime]::UtcNow.Ticks).log"
    $arguments = @('master', $masterUrl, $slaveUrl, '--interval', "$Interval", '--timeout', '0', '--force', '--verbose',
        '--network-namespace', $tb.NETNS, '--gluster-log-dir', $tb.LOG_DIR, '--state-dir', (Join-Path $work 'state'))
    $process = Start-Process -FilePath $builds[$Tool] -ArgumentList $arguments -RedirectStandardOutput $log `
        -RedirectStandardError "$log.err" -PassThru
    [pscustomobject]@{ Process = $process; Log = $log }
}

function Stop-Loop($Loop) {
    & kill -TERM $Loop.Process.Id
    if (-not $Loop.Process.WaitForExit(60000)) { & kill -KILL $Loop.Process.Id; throw "the loop $($Loop.Process.Id) did not stop within 60 s" }
}


$results = [Collections.Generic.List[object]]::new()
$idleTurns = [Collections.Generic.List[object]]::new()
$completed = $false
try {
    Write-Host "writing $($Directories * $FilesPerDirectory) files into $($tb.MVOL) ..."
    foreach ($d in 0..($Directories - 1)) {
        $dir = (New-Item -ItemType Directory -Path (Join-Path $normal ('{0}/d{1:D2}' -f $tree, $d)) -Force).FullName
        foreach ($f in 0..($FilesPerDirectory - 1)) { [IO.File]::WriteAllText((Join-Path $dir "f$f.txt"), "file $f") }
    }
    $round = 0
    foreach ($kind in $kinds) {
        $order = foreach ($b in 0..($Blocks - 1)) { if ($b % 2 -eq 0) { $builds.Keys } else { @($builds.Keys)[-1..-($builds.Count)] } }
        $block = 0
        foreach ($tool in $order) {
            $block++
            $loop = Start-Loop $kind $tool
            try {
                # Caught up: the slave has as many files as the master (the first block makes the first sync here),
                # and then a sentinel written now arrived.
                $masterFiles = @(Get-ChildItem -LiteralPath (Join-Path $normal $tree) -Recurse -File).Count
                $slaveTree = Get-SlavePath $kind $tool $tree
                $caughtUp = Wait-Condition { (Test-Path -LiteralPath $slaveTree) -and @(Get-ChildItem -LiteralPath $slaveTree -Recurse -File).Count -ge $masterFiles } -Seconds 1800
                if (-not $caughtUp) { throw "the $tool loop did not make the first sync within 30 min ($($loop.Log))" }
                $sentinel = "$tree/ready-$tool-$block.txt"
                [IO.File]::WriteAllText((Join-Path $normal $sentinel), "$block")
                if ($null -eq (Wait-Arrived @{ $sentinel = "$block" } $slavePathOf 900)) { throw "the $tool loop never caught up ($($loop.Log))" }
                foreach ($c in 1..$Changes) {
                    $round++
                    Start-Sleep -Seconds 1
                    $expected = New-ChangeRound $tree $changedDirs $round
                    $writing = [Diagnostics.Stopwatch]::StartNew()
                    foreach ($entry in $expected.GetEnumerator()) { [IO.File]::WriteAllText((Join-Path $normal $entry.Key), $entry.Value) }
                    $writeSeconds = $writing.Elapsed.TotalSeconds
                    $arrival = Wait-Arrived $expected $slavePathOf 120 -TurnLog $loop.Log
                    if ($null -eq $arrival) { throw "round $round`: the changes did not reach the $kind slave of $tool within 120 s ($($loop.Log))" }
                    $split = Split-Latency $arrival
                    $results.Add([pscustomobject]@{ Slave = $kind; Build = $tool; Block = $block; Round = $round; Seconds = $arrival.Seconds
                            Writes = $writeSeconds; FirstTurnStart = $split.FirstTurnStart; BusyTurns = $split.BusyTurns; TurnSeconds = $split.TurnSeconds })
                    Write-Host ('{0,-9} {1,-6} block {2} round {3,3}: {4:F3} s (writes {5:F3} s; first busy turn started at {6:+0.000;-0.000} s; {7} busy turns, {8:F3} s)' -f
                        $kind, $tool, $block, $round, $arrival.Seconds, $writeSeconds, $split.FirstTurnStart, $split.BusyTurns, $split.TurnSeconds)
                }
            }
            finally {
                Stop-Loop $loop
            }
            $turns = @(Get-TurnLine $loop.Log | Select-Object -Skip 1 | ForEach-Object Seconds)
            if ($turns.Count) { Write-Host ("  turns that changed something (after the first): {0}" -f (($turns | ForEach-Object { '{0:F2}' -f $_ }) -join ', ')) }
            # Idle turns as the loop narrated them on stderr (--verbose): "Turn N: ... is up to date (N ms)".
            $idle = @(Get-Content -LiteralPath "$($loop.Log).err" -ErrorAction SilentlyContinue | ForEach-Object { if ($_ -match 'is up to date \((\d+) ms\)') { [double] $Matches[1] } })
            foreach ($ms in $idle) { $idleTurns.Add([pscustomobject]@{ Slave = $kind; Build = $tool; Ms = $ms }) }
        }
    }
    $completed = $true
}
finally {
    Remove-Item -LiteralPath (Join-Path $normal $tree) -Recurse -Force -ErrorAction SilentlyContinue
    foreach ($kind in $kinds) {
        # One more turn takes the tree off the slave volume (the directory slaves go with $work).
        if ($kind -eq 'Gluster') {
            $loop = Start-Loop $kind @($builds.Keys)[-1]
            $null = Wait-Condition { -not (Test-Path -LiteralPath (Join-Path $tb.SVOL_BRICK $tree)) } -Seconds 120
            Stop-Loop $loop
        }
    }
    Dismount-TestbedVolume -MountPoint $normal
    # The loops' logs stay when something went wrong.
    if ($completed) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
    else { Remove-Item -Path (Join-Path $work 'slave-*') -Recurse -Force -ErrorAction SilentlyContinue; Write-Warning "the loops' logs are in $work" }
}

Write-Host ''
Write-Host ("{0} files in {1} directories; 20 changes over {2} directories; --interval {3}; load {4}" -f `
    ($Directories * $FilesPerDirectory), $Directories, $ChangedDirectories, $Interval, (Get-LoadAverage))
foreach ($kind in $kinds) {
    foreach ($tool in $builds.Keys) {
        $rows = @($results | Where-Object { $_.Slave -eq $kind -and $_.Build -eq $tool })
        $s = @($rows | ForEach-Object Seconds)
        Write-Host ('{0,-9} {1,-6} median {2:F3} s, worst {3:F3} s ({4} rounds); medians: first busy turn started {5:+0.000;-0.000} s after the writes, {6} busy turns taking {7:F3} s' -f
            $kind, $tool, (Get-Median $s), ($s | Measure-Object -Maximum).Maximum, $s.Count, (Get-Median @($rows | ForEach-Object FirstTurnStart)),
            (Get-Median @($rows | ForEach-Object BusyTurns)), (Get-Median @($rows | ForEach-Object TurnSeconds)))
        $idle = @($idleTurns | Where-Object { $_.Slave -eq $kind -and $_.Build -eq $tool } | ForEach-Object Ms)
        if ($idle.Count) { Write-Host ('{0,-9} {1,-6} idle turns: median {2} ms ({3} turns)' -f $kind, $tool, (Get-Median $idle), $idle.Count) }
    }
    if ($builds.Count -eq 2) {
        # Block i of "after" pairs with block i of "before" (adjacent in the A B B A order).
        $ratios = foreach ($b in 0..($Blocks - 1)) {
            $medians = foreach ($tool in $builds.Keys) {
                $blockNumber = Get-PairedBlock $b $tool
                Get-Median @($results | Where-Object { $_.Slave -eq $kind -and $_.Build -eq $tool -and $_.Block -eq $blockNumber } | ForEach-Object Seconds)
            }
            $medians[1] / $medians[0]
        }
        Write-Host ('{0,-9} after/before: median of paired block ratios {1:F2} ({2})' -f $kind, (Get-Median $ratios), (($ratios | ForEach-Object { '{0:F2}' -f $_ }) -join ', '))
    }
}
$results

#requires -Version 7.4
<#
.SYNOPSIS
    The GeoSync benchmark (a script, not a test) of idle turns and change latency on the testbed's multi-brick masters:
    drvol (2×2 distributed-replicated) and ecvol (dispersed 2+1), `geosync master` running as a loop into a directory.
.DESCRIPTION
    Writes a tree of -Directories directories of -FilesPerDirectory small files into each volume through a normal
    GlusterFS mount. Then, per volume, it runs blocks of one build each (A B B A …, so load drift moves both builds):
    a block starts `geosync master gluster://…:VOL file://SLAVE --interval -Interval --verbose` (a process, as users run
    it; both builds share one slave and state per volume, so only the first block makes a first sync), waits until
    a sentinel written now arrived and a turn found nothing to do, lets it run -IdleSeconds with nothing changing and takes the idle turns it narrated
    ("… is up to date (N ms)"), then runs -Changes rounds of 20 changes (10 files modified, 10 new, over the first
    -ChangedDirectories directories) and polls the slave every 10 ms until all 20 hold their new content. The latency is
    the time from the end of the writes to that moment; it includes the loop's pause after an idle turn.
    -Before names the "before" geosync executable (e.g. a copy of out/ built from main); without it the current build is
    compared with itself run with `--directory-pruning Disabled`, which reads through the mount with no pruning — on
    these volumes exactly what GeoSync did before brick reading (docs/multi-brick.md).
    Prints per volume and build the median idle turn and the median and worst latency, and the medians of the paired
    blocks' ratios (after/before). Removes the trees. Needs root and the testbed; run it under the testbed lock:
    flock -o /var/tmp/geosync-tb.lock dotnet pwsh tests/bench/Measure-MultiBrickLatency.ps1
.PARAMETER Volumes
    The masters (drvol and ecvol).
.PARAMETER FilesPerDirectory
    Files in each directory (500).
.PARAMETER Directories
    Directories in each tree (10).
.PARAMETER ChangedDirectories
    Directories the 20 changes are spread over (4).
.PARAMETER Changes
    Change rounds per block (3).
.PARAMETER Blocks
    Blocks per build and volume (2).
.PARAMETER IdleSeconds
    How long each block lets the loop idle before the changes (10).
.PARAMETER Interval
    The loop's --interval (1, its default).
.PARAMETER Before
    The "before" geosync executable; without it, this build with --directory-pruning Disabled.
.PARAMETER Geosync
    The geosync executable measured ("after"; default out/geosync/geosync of this repository).
#>
[CmdletBinding()]
param(
    [ValidateSet('drvol', 'ecvol')] [string[]] $Volumes = @('drvol', 'ecvol'),
    [ValidateRange(1, 100000)] [int] $FilesPerDirectory = 500,
    [ValidateRange(1, 1000)] [int] $Directories = 10,
    [ValidateRange(1, 20)] [int] $ChangedDirectories = 4,
    [ValidateRange(1, 100)] [int] $Changes = 3,
    [ValidateRange(1, 20)] [int] $Blocks = 2,
    [ValidateRange(1, 600)] [int] $IdleSeconds = 10,
    [ValidateRange(0, 60)] [double] $Interval = 1,
    [string] $Before,
    [string] $Geosync = (Join-Path $PSScriptRoot '../../out/geosync/geosync')
)

$ErrorActionPreference = 'Stop'
if (-not [Environment]::IsPrivilegedProcess) { throw 'The benchmark needs root (GlusterFS FUSE mounts in the testbed namespace).' }
if ($ChangedDirectories -gt $Directories) { throw "-ChangedDirectories ($ChangedDirectories) cannot exceed -Directories ($Directories)." }
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
. (Join-Path $repo 'tests/Integration/Testbed.ps1')
. (Join-Path $PSScriptRoot 'BenchTools.ps1')

& bash (Join-Path $repo 'tests/testbed/testbed.sh') status *> $null
if ($LASTEXITCODE -ne 0) { throw 'the testbed is not up (tests/testbed/testbed.sh up, under the lock)' }
$tb = Import-GlusterTestbed
$after = (Resolve-Path -LiteralPath $Geosync).Path
$builds = [ordered]@{
    before = if ($Before) { @{ Exe = (Resolve-Path -LiteralPath $Before).Path; Extra = @() } } else { @{ Exe = $after; Extra = @('--directory-pruning', 'Disabled') } }
    after = @{ Exe = $after; Extra = @() }
}
$work = (New-Item -ItemType Directory -Path "/var/tmp/geosync-multibrick-$PID").FullName
$tree = "multibrick-bench-$PID"
$changedDirs = 0..($ChangedDirectories - 1) | ForEach-Object { 'd{0:D2}' -f $_ }

# Resolved when Wait-Arrived calls it, in the loop below that sets $slaveRoot.
$slavePathOf = { param([string] $Relative) Join-Path $slaveRoot $Relative }

# Idle turns the loop narrated in its stderr after line $From: "Turn N: ... is up to date (N ms)".
function Get-IdleTurn([string] $Log, [int] $From) {
    @(Get-Content -LiteralPath $Log -ErrorAction SilentlyContinue | Select-Object -Skip $From | ForEach-Object {
            if ($_ -match 'is up to date \((\d+) ms\)') { [double] $Matches[1] }
        })
}

$results = [Collections.Generic.List[object]]::new()
$mounts = @{}
$completed = $false
try {
    foreach ($volume in $Volumes) {
        $normal = Mount-TestbedVolume -Testbed $tb -Volume $volume -Name "multibrick-bench-$volume-$PID"
        $mounts[$volume] = $normal
        Write-Host "writing $($Directories * $FilesPerDirectory) files into $volume ..."
        foreach ($d in 0..($Directories - 1)) {
            $dir = (New-Item -ItemType Directory -Path (Join-Path $normal ('{0}/d{1:D2}' -f $tree, $d)) -Force).FullName
            foreach ($f in 0..($FilesPerDirectory - 1)) { [IO.File]::WriteAllText((Join-Path $dir "f$f.txt"), "file $f") }
        }
        $order = foreach ($b in 0..($Blocks - 1)) { if ($b % 2 -eq 0) { $builds.Keys } else { @($builds.Keys)[-1..-($builds.Count)] } }
        $block = 0
        $round = 0
        foreach ($tool in $order) {
            $block++
            # Both builds replicate the same master into the same slave: only the first block makes a first sync.
            $slaveRoot = Join-Path $work "slave-$volume"
            $null = New-Item -ItemType Directory -Path $slaveRoot -Force
            $log = Join-Path $work "loop-$volume-$tool-$block.log"
            $arguments = @('master', "gluster://$($tb.SERVER):$volume", "file://$slaveRoot", '--interval', "$Interval", '--timeout', '0',
                '--force', '--verbose', '--network-namespace', $tb.NETNS, '--gluster-log-dir', $tb.LOG_DIR,
                '--state-dir', (Join-Path $work "state-$volume")) + $builds[$tool].Extra
            $process = Start-Process -FilePath $builds[$tool].Exe -ArgumentList $arguments -RedirectStandardOutput "$log.out" `
                -RedirectStandardError $log -PassThru
            try {
                $sentinel = "$tree/ready-$tool-$block.txt"
                [IO.File]::WriteAllText((Join-Path $normal $sentinel), "$block")
                if ($null -eq (Wait-Arrived @{ $sentinel = "$block" } $slavePathOf 1800)) { throw "the $tool loop on $volume never caught up ($log)" }
                # Caught up: a turn found nothing to do (a first sync carries the sentinel long before it ends).
                $caughtUp = Wait-Condition { @(Get-IdleTurn $log 0).Count -gt 0 } -Seconds 1800
                if (-not $caughtUp) { throw "the $tool loop on $volume never had an idle turn ($log)" }
                # Idle: the turns after the first idle one.
                $from = @(Get-Content -LiteralPath $log).Count
                Start-Sleep -Seconds $IdleSeconds
                $idle = @(Get-IdleTurn $log $from)
                foreach ($ms in $idle) { $results.Add([pscustomobject]@{ Volume = $volume; Build = $tool; Block = $block; Kind = 'idle'; Seconds = $ms / 1000 }) }
                Write-Host ('{0,-6} {1,-6} block {2}: idle turns {3} ms' -f $volume, $tool, $block, ($idle -join ', '))
                foreach ($c in 1..$Changes) {
                    $round++
                    Start-Sleep -Seconds 1
                    $expected = New-ChangeRound $tree $changedDirs $round -Tag "-$tool"
                    foreach ($entry in $expected.GetEnumerator()) { [IO.File]::WriteAllText((Join-Path $normal $entry.Key), $entry.Value) }
                    $arrival = Wait-Arrived $expected $slavePathOf 300 -TurnLog "$log.out"
                    if ($null -eq $arrival) { throw "round $round`: the changes did not reach the slave of $tool within 300 s ($log)" }
                    $split = Split-Latency $arrival
                    $results.Add([pscustomobject]@{ Volume = $volume; Build = $tool; Block = $block; Kind = 'change'; Seconds = $arrival.Seconds })
                    Write-Host ('{0,-6} {1,-6} block {2} round {3,2}: 20 changes in {4:F3} s (first busy turn started at {5:+0.000;-0.000} s; {6} busy turns, {7:F3} s)' -f
                        $volume, $tool, $block, $round, $arrival.Seconds, $split.FirstTurnStart, $split.BusyTurns, $split.TurnSeconds)
                }
            }
            finally {
                & kill -TERM $process.Id
                if (-not $process.WaitForExit(60000)) { & kill -KILL $process.Id }
            }
        }
    }
    $completed = $true
}
finally {
    foreach ($point in $mounts.Values) {
        Remove-Item -LiteralPath (Join-Path $point $tree) -Recurse -Force -ErrorAction SilentlyContinue
        Dismount-TestbedVolume -MountPoint $point
    }
    if ($completed) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
    else { Remove-Item -Path (Join-Path $work 'slave-*') -Recurse -Force -ErrorAction SilentlyContinue; Write-Warning "the loops' logs are in $work" }
}

Write-Host ''
Write-Host ("{0} files in {1} directories per volume; 20 changes over {2} directories; --interval {3}; before: {4}; load {5}" -f `
    ($Directories * $FilesPerDirectory), $Directories, $ChangedDirectories, $Interval,
    $(if ($Before) { $Before } else { 'this build, --directory-pruning Disabled' }), (Get-LoadAverage))
foreach ($volume in $Volumes) {
    foreach ($kind in 'idle', 'change') {
        foreach ($tool in $builds.Keys) {
            $s = @($results | Where-Object { $_.Volume -eq $volume -and $_.Build -eq $tool -and $_.Kind -eq $kind } | ForEach-Object Seconds)
            if ($s.Count) {
                Write-Host ('{0,-6} {1,-6} {2,-6} median {3:F4} s, worst {4:F4} s ({5})' -f $volume, $kind, $tool, (Get-Median $s),
                    ($s | Measure-Object -Maximum).Maximum, $s.Count)
            }
        }
        # Block b of one build pairs with the adjacent block of the other (A B B A ...).
        $ratios = foreach ($b in 0..($Blocks - 1)) {
            $pair = foreach ($tool in $builds.Keys) {
                $n = Get-PairedBlock $b $tool
                $v = @($results | Where-Object { $_.Volume -eq $volume -and $_.Build -eq $tool -and $_.Kind -eq $kind -and $_.Block -eq $n } | ForEach-Object Seconds)
                if ($v.Count) { Get-Median $v } else { [double]::NaN }
            }
            if ($pair[0] -gt 0) { $pair[1] / $pair[0] }
        }
        if (@($ratios).Count) {
            Write-Host ('{0,-6} {1,-6} after/before: median of paired block ratios {2:F4} ({3})' -f $volume, $kind, (Get-Median @($ratios)),
                ((@($ratios) | ForEach-Object { '{0:F4}' -f $_ }) -join ', '))
        }
    }
}
$results

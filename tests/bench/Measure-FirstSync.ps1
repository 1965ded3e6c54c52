#requires -Version 7.4
<#
.SYNOPSIS
    The GeoSync benchmark (a script, not a test): first sync against `rsync -a`, and the cost of a turn with no change,
    on the GlusterFS testbed.
.DESCRIPTION
    Writes a tree of -Directories directories of equal numbers of -FileSize-byte files into the master volume mvol
    through a normal GlusterFS mount, in two steps: first -SmallFiles files, then the rest up to -Files. After each step:
      - `rsync -a` copies the whole volume to a fresh local directory, reading through a fresh normal mount (the writer's
        mount would serve it from its page cache);
      - GeoSync replicates the volume (gluster://…:mvol, read through its own aux mount) to another fresh local directory
        (file://, served in process): Start-GeoSyncSession, one Invoke-GeoSyncCrawl turn, and the time of both;
      - the same session then runs -IdleTurns turns with nothing changed, timed one by one.
    The larger step runs rsync and GeoSync -Rounds times each, alternating which goes first. It prints the best times
    side by side, the ratio GeoSync / rsync (target: at most 1.3) as the median of the rounds' ratios (each round's
    GeoSync run over the rsync run next to it, so a machine whose speed drifts moves both), and the idle turn times for
    both tree sizes (target: under 50 ms, independent of the tree's size), then removes the tree from mvol and its
    local copies.
    Needs root and the testbed (brought up when missing, and then left up).
.PARAMETER Files
    Files in the full tree (10,000).
.PARAMETER SmallFiles
    Files in the first, smaller tree (1,000).
.PARAMETER Directories
    Directories the full tree spreads its files over (100); the small tree uses as many of them as it fills.
.PARAMETER FileSize
    Bytes per file (4,096).
.PARAMETER IdleTurns
    Turns with no change timed per tree size (20).
.PARAMETER SyncJobs
    GeoSync's parallel rsync jobs (Start-GeoSyncSession -SyncJobs); when not given, the session's default.
.PARAMETER Rounds
    How many times each tool copies the full tree (3), alternating which goes first. Each round's ratio pairs the two
    copies made back to back, so a machine that slows down or speeds up between rounds moves both.
.PARAMETER ModulePath
    The built module manifest.
.EXAMPLE
    dotnet pwsh tests/bench/Measure-FirstSync.ps1
#>
[CmdletBinding()]
param(
    [ValidateRange(100, 1000000)] [int] $Files = 10000,
    [ValidateRange(10, 1000000)] [int] $SmallFiles = 1000,
    [ValidateRange(1, 10000)] [int] $Directories = 100,
    [ValidateRange(1, 1073741824)] [int] $FileSize = 4096,
    [ValidateRange(1, 1000)] [int] $IdleTurns = 20,
    [ValidateRange(1, 64)] [int] $SyncJobs,
    [ValidateRange(1, 20)] [int] $Rounds = 3,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not [Environment]::IsPrivilegedProcess) { throw 'The benchmark needs root (GlusterFS FUSE mounts in the testbed namespace).' }
$perDirectory = [Math]::Ceiling($Files / $Directories)
if ($SmallFiles % $perDirectory -ne 0 -or $SmallFiles -ge $Files) {
    throw "-SmallFiles ($SmallFiles) must be a multiple of the files per directory ($perDirectory) and less than -Files ($Files)."
}
Import-Module (Resolve-Path -LiteralPath $ModulePath).Path -Force
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$testbedScript = Join-Path $repo 'tests/testbed/testbed.sh'

& bash $testbedScript status *> $null
if ($LASTEXITCODE -ne 0) {
    & bash $testbedScript up > $null
    if ($LASTEXITCODE -ne 0) { throw "bringing up the testbed failed ($testbedScript up exited $LASTEXITCODE)" }
}
$tbDir = if ($env:GEOSYNC_TESTBED_DIR) { $env:GEOSYNC_TESTBED_DIR } else { '/var/tmp/geosync-testbed' }
$tb = @{}
foreach ($line in Get-Content -LiteralPath (Join-Path $tbDir 'env')) {
    if ($line -match '^GEOSYNC_TB_(\w+)=(.*)$') { $tb[$Matches[1]] = $Matches[2].Trim("'") }
}
$masterUrl = "gluster://$($tb.SERVER):$($tb.MVOL)"
$gluster = @{ NetworkNamespace = $tb.NETNS; GlusterLogDirectory = $tb.LOG_DIR }
$jobs = if ($PSBoundParameters.ContainsKey('SyncJobs')) { @{ SyncJobs = $SyncJobs } } else { @{} }
$jobsText = if ($jobs.Count) { "$SyncJobs" } else { "$([GeoSync.Engine.Master.SyncerOptions]::DefaultSyncJobs) (the default)" }

# Copies land on the root file system, next to the bricks, so both tools write to the same disk.
$work = (New-Item -ItemType Directory -Path "/var/tmp/geosync-bench-$PID").FullName
$normal = (New-Item -ItemType Directory -Path (Join-Path $tb.MOUNT_DIR "bench-$PID")).FullName
$tree = "geosync-bench-$PID"
$savedTmpDir = $env:TMPDIR
$env:TMPDIR = (New-Item -ItemType Directory -Path (Join-Path $work 'tmp')).FullName
$copies = 0

function New-Copy {
    $script:copies++
    (New-Item -ItemType Directory -Path (Join-Path $work "copy-$script:copies")).FullName
}

# Writes files $From..$To-1 of the tree, $perDirectory a directory, through the normal mount (bash builtins only:
# no process per file).
function Write-Tree([int] $From, [int] $To) {
    & bash -c @'
set -eu
root=$1 from=$2 to=$3 per=$4 size=$5
block=$(head -c $(( (size * 3 + 3) / 4 )) /dev/urandom | base64 -w0 | head -c "$size")
for (( i = from; i < to; i++ )); do
    d=$(printf '%s/d%03d' "$root" $(( i / per )))
    (( i % per == 0 )) && mkdir -p "$d"
    printf '%s' "$block" > "$d/f$i"
done
'@ bash (Join-Path $normal $tree) $From $To $perDirectory $FileSize
    if ($LASTEXITCODE -ne 0) { throw "writing the benchmark tree failed (exit $LASTEXITCODE)" }
}

# rsync reads through a mount of its own, fresh like the aux mount GeoSync makes: the mount that wrote the tree still
# holds its pages in the kernel's cache, which would make rsync's reads unfairly cheap.
function Measure-Rsync {
    $target = New-Copy
    $source = (New-Item -ItemType Directory -Path (Join-Path $tb.MOUNT_DIR "bench-$PID-rsync")).FullName
    & nsenter "--net=$($tb.NETNS_PATH)" glusterfs "--volfile-server=$($tb.SERVER)" "--volfile-id=$($tb.MVOL)" "--log-file=$(Join-Path $tb.LOG_DIR "bench-$PID.log")" $source
    if ($LASTEXITCODE -ne 0) { throw "mounting $($tb.MVOL) on $source failed (exit $LASTEXITCODE)" }
    try {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & rsync -a "$source/" "$target/"
        if ($LASTEXITCODE -ne 0) { throw "rsync -a $source/ $target/ failed (exit $LASTEXITCODE)" }
        $clock.Elapsed.TotalSeconds
    }
    finally {
        & umount -l $source
        [IO.Directory]::Delete($source)
    }
}

# A first sync to a fresh directory; returns the open and turn times and leaves the session open for idle turns.
function Measure-GeoSync {
    $target = New-Copy
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $session = Start-GeoSyncSession -Master $masterUrl -Slave "file://$target" @jobs @gluster
    $opened = $clock.Elapsed.TotalSeconds
    # The session's debug stream has one line per rsync run ("<argv>: exited N for M files ..."): how the files were batched.
    # -Debug would also make the cmdlet confirm; the preference only turns the stream on.
    $DebugPreference = 'Continue'
    $output = $session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction Stop 5>&1
    $DebugPreference = 'SilentlyContinue'
    $total = $clock.Elapsed.TotalSeconds
    $turn = @($output | Where-Object { $_ -isnot [Management.Automation.DebugRecord] })[-1]
    if (-not $turn.Converged) { throw "the GeoSync first sync did not converge: $($turn.Failures.Count) failures" }
    $batches = @(foreach ($record in $output) {
        if ($record -is [Management.Automation.DebugRecord] -and $record.Message -match ': exited \d+ for (\d+) files .* in ([\d.]+) s$') {
            [pscustomobject]@{ Files = [int]$Matches[1]; Seconds = [double]$Matches[2] }
        }
    })
    $sizes = $batches | Measure-Object -Property Files -Minimum -Maximum
    [pscustomobject]@{
        Session = $session; Open = $opened; Turn = $total - $opened; Total = $total; Files = $turn.FilesSynced; Target = $target
        RsyncRuns = $batches.Count; BatchMin = $sizes.Minimum; BatchMax = $sizes.Maximum
        RsyncBusy = ($batches | Measure-Object -Property Seconds -Sum).Sum
    }
}

. (Join-Path $PSScriptRoot 'BenchTools.ps1')

function Measure-IdleTurn($Session) {
    $times = foreach ($i in 1..$IdleTurns) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $turn = $Session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction Stop
        $wall = $clock.Elapsed.TotalMilliseconds
        if ($turn.ChangesSeen -or $turn.FilesSynced) { throw "an idle turn found changes: $($turn.FilesSynced) files" }
        [pscustomobject]@{ Wall = $wall; Turn = $turn.Duration.TotalMilliseconds; Scanned = $turn.DirectoriesScanned }
    }
    [pscustomobject]@{
        Median  = Get-Median $times.Wall
        Max     = ($times | Measure-Object -Property Wall -Maximum).Maximum
        Turn    = Get-Median $times.Turn
        Scanned = ($times | Measure-Object -Property Scanned -Maximum).Maximum
    }
}

function Count-VolumeFiles { [int](& bash -c 'find "$1" -type f | wc -l' bash $normal) }

$loadAtStart = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
$results = [ordered]@{}
try {
    & nsenter "--net=$($tb.NETNS_PATH)" glusterfs "--volfile-server=$($tb.SERVER)" "--volfile-id=$($tb.MVOL)" "--log-file=$(Join-Path $tb.LOG_DIR "bench-$PID.log")" $normal
    if ($LASTEXITCODE -ne 0) { throw "mounting $($tb.MVOL) on $normal failed (exit $LASTEXITCODE)" }
    $null = New-Item -ItemType Directory -Path (Join-Path $normal $tree)

    foreach ($step in @(@{ Name = 'small'; To = $SmallFiles; From = 0; Rounds = 1 }, @{ Name = 'full'; To = $Files; From = $SmallFiles; Rounds = $Rounds })) {
        Write-Host "Writing files $($step.From)..$($step.To - 1) of $FileSize bytes into $($tb.MVOL):/$tree ..."
        Write-Tree -From $step.From -To $step.To
        $inVolume = Count-VolumeFiles
        $rsyncTimes = @()
        $geosyncRuns = @()
        foreach ($round in 1..$step.Rounds) {
            # Alternating order, so neither tool always meets the caches the other warmed.
            if ($round % 2 -eq 1) {
                $rsyncTime = Measure-Rsync
                $run = Measure-GeoSync
            }
            else {
                $run = Measure-GeoSync
                $rsyncTime = Measure-Rsync
            }
            $rsyncTimes += $rsyncTime
            $run | Add-Member -NotePropertyName Ratio -NotePropertyValue ($run.Total / $rsyncTime)
            if ($round -lt $step.Rounds) { $run.Session | Stop-GeoSyncSession -Confirm:$false }
            $geosyncRuns += $run
        }
        $best = $geosyncRuns | Sort-Object -Property Total | Select-Object -First 1
        $ratios = @($geosyncRuns.Ratio | Sort-Object)
        $last = $geosyncRuns[-1]
        $idle = Measure-IdleTurn -Session $last.Session
        $last.Session | Stop-GeoSyncSession -Confirm:$false
        $results[$step.Name] = [pscustomobject]@{
            Files = $inVolume; Rsync = ($rsyncTimes | Measure-Object -Minimum).Minimum; RsyncAll = $rsyncTimes
            GeoSync = $best.Total; GeoSyncOpen = $best.Open; GeoSyncTurn = $best.Turn; GeoSyncAll = @($geosyncRuns.Total); Synced = $best.Files
            Ratio = Get-Median $ratios; Ratios = $ratios
            Batches = @($geosyncRuns | ForEach-Object { '{0} runs of {1}..{2} files, {3:N1} s of rsync' -f $_.RsyncRuns, $_.BatchMin, $_.BatchMax, $_.RsyncBusy })
            Idle = $idle
        }
        foreach ($copy in Get-ChildItem -LiteralPath $work -Directory -Filter 'copy-*') { Remove-Item -LiteralPath $copy.FullName -Recurse -Force }
    }
}
finally {
    Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
    if (Test-Path -LiteralPath (Join-Path $normal $tree)) { Remove-Item -LiteralPath (Join-Path $normal $tree) -Recurse -Force }
    & umount -l $normal 2>$null
    if (Test-Path -LiteralPath $normal) { [IO.Directory]::Delete($normal) }
    $env:TMPDIR = $savedTmpDir
    Remove-Item -LiteralPath $work -Recurse -Force
}

$rsyncVersion = ((& rsync --version)[0] -replace '\s+protocol.*$', '')
$cpu = ((Get-Content -LiteralPath /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', '')
Write-Host ''
Write-Host "GeoSync benchmark on $([Environment]::ProcessorCount) cores ($cpu), $([Math]::Round((Get-Content /proc/meminfo -TotalCount 1).Split(' ', [StringSplitOptions]::RemoveEmptyEntries)[1] / 1MB)) GiB, load average $loadAtStart at the start, $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ') at the end"
Write-Host "GlusterFS $($tb.GLUSTER_VERSION) testbed; $rsyncVersion; GeoSync $((Get-Module GeoSync).Version), sync jobs $jobsText"
Write-Host "Master $masterUrl read through a fresh FUSE mount by each tool (GeoSync's aux mount, a normal one for rsync); both copy the whole volume to a fresh local directory."
Write-Host ''
$table = foreach ($name in $results.Keys) {
    $r = $results[$name]
    [pscustomobject]@{
        'Files in mvol'          = $r.Files
        'rsync -a, best (s)'     = '{0:N2}' -f $r.Rsync
        'GeoSync open+turn, best (s)' = '{0:N2} ({1:N2}+{2:N2})' -f $r.GeoSync, $r.GeoSyncOpen, $r.GeoSyncTurn
        'Ratio, median of rounds (target <= 1.3)' = '{0:N2}' -f $r.Ratio
        'Idle turn median (ms)'  = '{0:N1}' -f $r.Idle.Median
        'Idle turn max (ms)'     = '{0:N1}' -f $r.Idle.Max
        'Dirs scanned when idle' = $r.Idle.Scanned
    }
}
$table | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
foreach ($name in $results.Keys) {
    $r = $results[$name]
    Write-Host ("{0} files: rsync runs {1} s; GeoSync runs {2} s ({5}); round ratios {6}; GeoSync synced {3} files; idle turn engine time (median) {4:N1} ms" -f
        $r.Files, (($r.RsyncAll | ForEach-Object { '{0:N2}' -f $_ }) -join ', '), (($r.GeoSyncAll | ForEach-Object { '{0:N2}' -f $_ }) -join ', '), $r.Synced, $r.Idle.Turn,
        ($r.Batches -join '; '), (($r.Ratios | ForEach-Object { '{0:N2}' -f $_ }) -join ', '))
}

#requires -Version 7.4
<#
.SYNOPSIS
    The directory-master benchmark (a script, not a test): `geosync master file://M file://S --once` against `rsync -a`,
    for a first sync and for a run with nothing to do, as whole processes and as the engine alone.
.DESCRIPTION
    Writes a master tree of -Files files of -FileSize bytes (0 for empty files) in -Directories directories under
    -WorkDirectory (a disk, not tmpfs; /var/tmp by default). Then for -Rounds rounds, interleaved and alternating which
    goes first, it times:
      - first sync: `geosync master file://M file://S --once` into an empty S (a fresh state directory each time), and
        `rsync -a M/ R/` into an empty R; and the engine alone: Start-GeoSyncSession and one Invoke-GeoSyncCrawl turn in
        this process (the module imported once beforehand), into an empty E;
      - nothing changed: the same three again on the synced trees (rsync's own no-change pass is `rsync -a M/ R/`
        again).
    Each round's ratio is GeoSync's time over the rsync run of the same round; the script prints the median times and
    the median of the ratios (target: at most 1), the time per 1,000 files, and the peak RSS of the whole `geosync
    master` process tree (geosync and its rsync children, sampled from /proc every 0.2 s), and checks that every first
    sync left a slave that `rsync -ani` finds equal to the master and reported -Files files synced. Caches are warm for
    both tools. The trees are removed at the end.

    Several -Files sizes run one after the other, each on a tree of its own, so the time per file and the peak RSS can
    be read across sizes (docs/performance.md, "Directory master at scale").
.PARAMETER Files
    Files in the master tree (50,000); several sizes run one after the other.
.PARAMETER Directories
    Directories the files are spread over (500); ignored with -FilesPerDirectory.
.PARAMETER FilesPerDirectory
    Files per directory instead of a fixed -Directories (0: use -Directories); 1,000 for the scale runs.
.PARAMETER NoEngine
    Leaves out the engine-alone runs (at a million files they double a round's time).
.PARAMETER MasterTree
    An existing master tree of -Files files (one size only) to use instead of writing one; it is not removed.
.PARAMETER FileSize
    Bytes per file (4,096); 0 writes empty files.
.PARAMETER Rounds
    Paired rounds (3).
.PARAMETER SyncJobs
    --sync-jobs for GeoSync; the default when 0.
.PARAMETER WorkDirectory
    Where the trees are written.
.EXAMPLE
    dotnet pwsh tests/bench/Measure-DirectoryMaster.ps1 -Rounds 5
.EXAMPLE
    dotnet pwsh tests/bench/Measure-DirectoryMaster.ps1 -Files 20000 -Directories 200 -FileSize 0
.EXAMPLE
    dotnet pwsh tests/bench/Measure-DirectoryMaster.ps1 -Files 10000,100000 -FilesPerDirectory 1000 -FileSize 0 -Rounds 1 -NoEngine
#>
[CmdletBinding()]
param(
    # Strings, so that `-File` invocations can give a list as 10000,100000.
    [string[]] $Files = @('50000'),
    [ValidateRange(1, 100000)] [int] $Directories = 500,
    [ValidateRange(0, 100000)] [int] $FilesPerDirectory = 0,
    [switch] $NoEngine,
    [string] $MasterTree,
    [ValidateRange(0, 1073741824)] [int] $FileSize = 4096,
    [ValidateRange(1, 50)] [int] $Rounds = 3,
    [ValidateRange(0, 16)] [int] $SyncJobs = 0,
    [string] $WorkDirectory = "/var/tmp/geosync-dirmaster-bench-$PID",
    [string] $Geosync = (Join-Path $PSScriptRoot '../../out/geosync/geosync'),
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Geosync = (Resolve-Path -LiteralPath $Geosync).Path
Import-Module (Resolve-Path -LiteralPath $ModulePath).Path -Force
$sizes = @($Files -split ',' | ForEach-Object { [int]$_ })
if ($sizes | Where-Object { $_ -lt 100 -or $_ -gt 2000000 }) { throw '-Files: each size from 100 to 2,000,000' }
if ($MasterTree -and $sizes.Count -ne 1) { throw '-MasterTree takes one -Files size' }
$jobs = if ($SyncJobs -gt 0) { @('--sync-jobs', $SyncJobs) } else { @() }
$sessionJobs = if ($SyncJobs -gt 0) { @{ SyncJobs = $SyncJobs } } else { @{} }

. (Join-Path $PSScriptRoot 'BenchTools.ps1')

# An empty directory at $Path (whatever was there is removed first, outside any timing).
function Reset-Directory([string] $Path) {
    if (Test-Path -LiteralPath $Path) { & rm -rf -- $Path }
    $null = New-Item -ItemType Directory -Path $Path
}

# The resident set of a process and all its descendants, in KiB (0 once it is gone). Cheap on purpose: it runs every
# 0.2 s next to the process it measures, so it reads only that tree (each thread's children file), not all of /proc.
function Get-TreeRss([int] $Root) {
    $total = 0
    $pending = [Collections.Generic.Queue[int]]::new()
    $pending.Enqueue($Root)
    while ($pending.Count) {
        $id = $pending.Dequeue()
        try {
            foreach ($line in [IO.File]::ReadAllLines("/proc/$id/status")) {
                if ($line.StartsWith('VmRSS:')) { $total += [int]($line -split '\s+')[1]; break }
            }
            foreach ($task in [IO.Directory]::GetDirectories("/proc/$id/task")) {
                foreach ($child in [IO.File]::ReadAllText("$task/children").Split(' ', [StringSplitOptions]::RemoveEmptyEntries)) {
                    $pending.Enqueue([int]$child)
                }
            }
        }
        catch [IO.IOException], [UnauthorizedAccessException] {
            # Gone since its parent listed it.
        }
    }
    $total
}

# A whole `geosync master --once`: its wall time and the peak RSS of its process tree (geosync and its rsync children).
function Measure-Geosync([string] $Slave, [string] $StateDirectory) {
    $info = [Diagnostics.ProcessStartInfo]::new($Geosync)
    foreach ($argument in @('master', "file://$master", "file://$Slave", '--once', '--state-dir', $StateDirectory) + $jobs) {
        $info.ArgumentList.Add([string]$argument)
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $process = [Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    $peak = 0
    while (-not $process.HasExited) {
        $peak = [Math]::Max($peak, (Get-TreeRss -Root $process.Id))
        Start-Sleep -Milliseconds 200
    }
    $process.WaitForExit()
    $seconds = $clock.Elapsed.TotalSeconds
    if ($process.ExitCode -ne 0) { throw "geosync master exited $($process.ExitCode)`n$($stdout.Result)$($stderr.Result)" }
    [pscustomobject]@{ Seconds = $seconds; PeakMB = $peak / 1024 }
}

function Measure-Rsync([string] $Copy) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & rsync -a "$master/" "$Copy/"
    $seconds = $clock.Elapsed.TotalSeconds
    if ($LASTEXITCODE -ne 0) { throw "rsync -a exited $LASTEXITCODE" }
    $seconds
}

# The engine alone: a session in this process (no host start, no module import) and one turn.
function Measure-Engine([string] $Slave) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $session = Start-GeoSyncSession -Master "file://$master" -Slave "file://$Slave" @sessionJobs
    try {
        $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction Stop
    }
    finally {
        $session | Stop-GeoSyncSession -Confirm:$false
    }
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Turn = $turn }
}

function Assert-Equal([string] $Slave) {
    # The slave root keeps its own attributes (docs/master-loop.md, "The crawl"), so its line is not a difference.
    $differences = @(& rsync -ani "$master/" "$Slave/" | Where-Object { $_ -notmatch ' \./$' })
    if ($LASTEXITCODE -ne 0 -or $differences.Count -gt 0) {
        throw "the slave $Slave differs from the master: $($differences | Select-Object -First 5)"
    }
}

function Measure-Size([int] $Count) {
    $script:master = if ($MasterTree) { (Resolve-Path -LiteralPath $MasterTree).Path } else { Join-Path $WorkDirectory 'master' }
    $perDirectory = if ($FilesPerDirectory -gt 0) { $FilesPerDirectory } else { [Math]::Ceiling($Count / $Directories) }
    if (-not $MasterTree) {
        Write-Host "Writing $Count files of $FileSize bytes, $perDirectory per directory, under $master ..."
        if (Test-Path -LiteralPath $master) { & rm -rf -- $master }
        $null = New-Item -ItemType Directory -Path $master -Force
        & bash -c @'
set -eu
root=$1 files=$2 per=$3 size=$4
if (( size == 0 )); then
    # Empty files: one touch per directory's names.
    for (( d = 0; d * per < files; d++ )); do
        printf -v dir '%s/d%04d' "$root" $d
        mkdir "$dir"
        n=$(( files - d * per < per ? files - d * per : per ))
        (cd "$dir" && seq -f "f%g" $(( d * per )) $(( d * per + n - 1 )) | xargs touch)
    done
    exit 0
fi
block=$(head -c $(( (size * 3 + 3) / 4 + 1 )) /dev/urandom | base64 -w0 | head -c "$size")
for (( i = 0; i < files; i++ )); do
    printf -v d '%s/d%04d' "$root" $(( i / per ))
    (( i % per == 0 )) && mkdir -p "$d"
    printf '%s' "$block" > "$d/f$i"
done
'@ bash $master $Count $perDirectory $FileSize
        if ($LASTEXITCODE -ne 0) { throw "writing the tree failed (exit $LASTEXITCODE)" }
    }
    $load = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
    Write-Host "$Count files: load average at start: $($load -join ' ')"

    $rows = [Collections.Generic.List[object]]::new()
    for ($round = 1; $round -le $Rounds; $round++) {
        $slave = Join-Path $WorkDirectory 'slave'
        $copy = Join-Path $WorkDirectory 'copy'
        $engine = Join-Path $WorkDirectory 'engine'
        $state = Join-Path $WorkDirectory 'state'
        foreach ($path in $slave, $copy, $engine, $state) { Reset-Directory $path }
        $geosyncFirst = $round % 2 -eq 1

        $first = @{}
        $steps = @(
            { $first.Geosync = Measure-Geosync $slave $state }
            { $first.Rsync = Measure-Rsync $copy }
        )
        if (-not $NoEngine) { $steps += { $first.Engine = Measure-Engine $engine } }
        if (-not $geosyncFirst) { [array]::Reverse($steps) }
        foreach ($step in $steps) { & $step }
        Assert-Equal $slave
        if (-not $NoEngine) {
            Assert-Equal $engine
            if ($first.Engine.Turn.FilesSynced -ne $Count) { throw "the engine's first turn counted $($first.Engine.Turn.FilesSynced) files, not $Count" }
        }

        $again = @{}
        $steps = @(
            { $again.Geosync = Measure-Geosync $slave $state }
            { $again.Rsync = Measure-Rsync $copy }
        )
        if (-not $NoEngine) { $steps += { $again.Engine = Measure-Engine $engine } }
        if (-not $geosyncFirst) { [array]::Reverse($steps) }
        foreach ($step in $steps) { & $step }
        if (-not $NoEngine -and $again.Engine.Turn.FilesSynced -ne 0) { throw "the no-change turn sent $($again.Engine.Turn.FilesSynced) files" }

        $row = [pscustomobject]@{
            Round           = $round
            First           = if ($geosyncFirst) { 'geosync' } else { 'rsync' }
            RsyncFirstSync  = $first.Rsync
            GeosyncFirst    = $first.Geosync.Seconds
            GeosyncFirstMB  = $first.Geosync.PeakMB
            EngineFirst     = if ($NoEngine) { [double]::NaN } else { $first.Engine.Seconds }
            RsyncNoChange   = $again.Rsync
            GeosyncNoChange = $again.Geosync.Seconds
            GeosyncNoChangeMB = $again.Geosync.PeakMB
            EngineNoChange  = if ($NoEngine) { [double]::NaN } else { $again.Engine.Seconds }
        }
        $rows.Add($row)
        Write-Host ('{12} files, round {0} ({1} first): first sync rsync {2:F2} s, geosync {3:F2} s ({4:F2}, peak {13:F1} MB), engine {5:F2} s ({6:F2}); no change rsync {7:F2} s, geosync {8:F2} s ({9:F2}, peak {14:F1} MB), engine {10:F2} s ({11:F2})' -f
            $round, $row.First, $row.RsyncFirstSync, $row.GeosyncFirst, ($row.GeosyncFirst / $row.RsyncFirstSync),
            $row.EngineFirst, ($row.EngineFirst / $row.RsyncFirstSync), $row.RsyncNoChange, $row.GeosyncNoChange,
            ($row.GeosyncNoChange / $row.RsyncNoChange), $row.EngineNoChange, ($row.EngineNoChange / $row.RsyncNoChange),
            $Count, $row.GeosyncFirstMB, $row.GeosyncNoChangeMB)
    }
    $load = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
    Write-Host "$Count files: load average at end: $($load -join ' ')"

    $pairs = @(
        @{ Name = 'first sync, whole process'; GeoSync = 'GeosyncFirst'; Rsync = 'RsyncFirstSync'; Peak = 'GeosyncFirstMB' }
        @{ Name = 'first sync, engine'; GeoSync = 'EngineFirst'; Rsync = 'RsyncFirstSync' }
        @{ Name = 'no change, whole process'; GeoSync = 'GeosyncNoChange'; Rsync = 'RsyncNoChange'; Peak = 'GeosyncNoChangeMB' }
        @{ Name = 'no change, engine'; GeoSync = 'EngineNoChange'; Rsync = 'RsyncNoChange' })
    foreach ($pair in $pairs) {
        if ($NoEngine -and -not $pair.ContainsKey('Peak')) { continue }
        $ratios = @($rows | ForEach-Object { $_.($pair.GeoSync) / $_.($pair.Rsync) })
        $geosyncSeconds = Get-Median @($rows | ForEach-Object { $_.($pair.GeoSync) })
        $rsyncSeconds = Get-Median @($rows | ForEach-Object { $_.($pair.Rsync) })
        [pscustomobject]@{
            Files        = $Count
            Measure      = $pair.Name
            GeoSync      = [Math]::Round($geosyncSeconds, 2)
            Rsync        = [Math]::Round($rsyncSeconds, 2)
            RatioMedian  = [Math]::Round((Get-Median $ratios), 2)
            Ratios       = ($ratios | ForEach-Object { $_.ToString('F2', [Globalization.CultureInfo]::InvariantCulture) }) -join ' '
            GeoMsPerK    = [Math]::Round(1000 * $geosyncSeconds / ($Count / 1000), 1)
            RsyncMsPerK  = [Math]::Round(1000 * $rsyncSeconds / ($Count / 1000), 1)
            PeakMB       = if ($pair.ContainsKey('Peak')) { [Math]::Round((Get-Median @($rows | ForEach-Object { $_.($pair.Peak) })), 1) } else { $null }
        }
    }
    foreach ($path in 'slave', 'copy', 'engine', 'state') { & rm -rf -- (Join-Path $WorkDirectory $path) }
    if (-not $MasterTree) { & rm -rf -- $master }
}

try {
    $null = New-Item -ItemType Directory -Path $WorkDirectory -Force
    $summary = foreach ($size in $sizes) { Measure-Size $size }
    $summary | Format-Table -AutoSize | Out-String -Width 220 | Write-Host
}
finally {
    Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
    if (Test-Path -LiteralPath $WorkDirectory) { & rm -rf -- $WorkDirectory }
}

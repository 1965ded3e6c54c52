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
    the median of the ratios (target: at most 1), and checks that every first sync left a slave that `rsync -ani`
    finds equal to the master and reported -Files files synced. Caches are warm for both tools. The trees are removed
    at the end.
.PARAMETER Files
    Files in the master tree (50,000).
.PARAMETER Directories
    Directories the files are spread over (500).
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
#>
[CmdletBinding()]
param(
    [ValidateRange(100, 2000000)] [int] $Files = 50000,
    [ValidateRange(1, 100000)] [int] $Directories = 500,
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
$master = Join-Path $WorkDirectory 'master'
$perDirectory = [Math]::Ceiling($Files / $Directories)
$jobs = if ($SyncJobs -gt 0) { @('--sync-jobs', $SyncJobs) } else { @() }
$sessionJobs = if ($SyncJobs -gt 0) { @{ SyncJobs = $SyncJobs } } else { @{} }

. (Join-Path $PSScriptRoot 'BenchTools.ps1')

# An empty directory at $Path (whatever was there is removed first, outside any timing).
function Reset-Directory([string] $Path) {
    if (Test-Path -LiteralPath $Path) { & rm -rf -- $Path }
    $null = New-Item -ItemType Directory -Path $Path
}

function Measure-Geosync([string] $Slave, [string] $StateDirectory) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $lines = @(& $Geosync master "file://$master" "file://$Slave" --once --state-dir $StateDirectory @jobs 2>&1)
    $seconds = $clock.Elapsed.TotalSeconds
    if ($LASTEXITCODE -ne 0) { throw "geosync master exited $LASTEXITCODE`n$($lines -join "`n")" }
    $seconds
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

try {
    Write-Host "Writing $Files files of $FileSize bytes in $Directories directories under $master ..."
    $null = New-Item -ItemType Directory -Path $master -Force
    & bash -c @'
set -eu
root=$1 files=$2 per=$3 size=$4
block=$(head -c $(( (size * 3 + 3) / 4 + 1 )) /dev/urandom | base64 -w0 | head -c "$size")
for (( i = 0; i < files; i++ )); do
    printf -v d '%s/d%04d' "$root" $(( i / per ))
    (( i % per == 0 )) && mkdir -p "$d"
    if (( size == 0 )); then : > "$d/f$i"; else printf '%s' "$block" > "$d/f$i"; fi
done
'@ bash $master $Files $perDirectory $FileSize
    if ($LASTEXITCODE -ne 0) { throw "writing the tree failed (exit $LASTEXITCODE)" }
    $load = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
    Write-Host "Load average at start: $($load -join ' ')"

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
            { $first.Engine = Measure-Engine $engine }
        )
        if (-not $geosyncFirst) { [array]::Reverse($steps) }
        foreach ($step in $steps) { & $step }
        Assert-Equal $slave
        Assert-Equal $engine
        if ($first.Engine.Turn.FilesSynced -ne $Files) { throw "the engine's first turn counted $($first.Engine.Turn.FilesSynced) files, not $Files" }

        $again = @{}
        $steps = @(
            { $again.Geosync = Measure-Geosync $slave $state }
            { $again.Rsync = Measure-Rsync $copy }
            { $again.Engine = Measure-Engine $engine }
        )
        if (-not $geosyncFirst) { [array]::Reverse($steps) }
        foreach ($step in $steps) { & $step }
        if ($again.Engine.Turn.FilesSynced -ne 0) { throw "the no-change turn sent $($again.Engine.Turn.FilesSynced) files" }

        $row = [pscustomobject]@{
            Round           = $round
            First           = if ($geosyncFirst) { 'geosync' } else { 'rsync' }
            RsyncFirstSync  = $first.Rsync
            GeosyncFirst    = $first.Geosync
            EngineFirst     = $first.Engine.Seconds
            RsyncNoChange   = $again.Rsync
            GeosyncNoChange = $again.Geosync
            EngineNoChange  = $again.Engine.Seconds
        }
        $rows.Add($row)
        Write-Host ('round {0} ({1} first): first sync rsync {2:F2} s, geosync {3:F2} s ({4:F2}), engine {5:F2} s ({6:F2}); no change rsync {7:F2} s, geosync {8:F2} s ({9:F2}), engine {10:F2} s ({11:F2})' -f
            $round, $row.First, $row.RsyncFirstSync, $row.GeosyncFirst, ($row.GeosyncFirst / $row.RsyncFirstSync),
            $row.EngineFirst, ($row.EngineFirst / $row.RsyncFirstSync), $row.RsyncNoChange, $row.GeosyncNoChange,
            ($row.GeosyncNoChange / $row.RsyncNoChange), $row.EngineNoChange, ($row.EngineNoChange / $row.RsyncNoChange))
    }
    $load = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
    Write-Host "Load average at end: $($load -join ' ')"

    $summary = foreach ($pair in @(
            @{ Name = 'first sync, whole process'; GeoSync = 'GeosyncFirst'; Rsync = 'RsyncFirstSync' }
            @{ Name = 'first sync, engine'; GeoSync = 'EngineFirst'; Rsync = 'RsyncFirstSync' }
            @{ Name = 'no change, whole process'; GeoSync = 'GeosyncNoChange'; Rsync = 'RsyncNoChange' }
            @{ Name = 'no change, engine'; GeoSync = 'EngineNoChange'; Rsync = 'RsyncNoChange' })) {
        $ratios = @($rows | ForEach-Object { $_.($pair.GeoSync) / $_.($pair.Rsync) })
        [pscustomobject]@{
            Measure      = $pair.Name
            GeoSync      = [Math]::Round((Get-Median @($rows | ForEach-Object { $_.($pair.GeoSync) })), 2)
            Rsync        = [Math]::Round((Get-Median @($rows | ForEach-Object { $_.($pair.Rsync) })), 2)
            RatioMedian  = [Math]::Round((Get-Median $ratios), 2)
            Ratios       = ($ratios | ForEach-Object { $_.ToString('F2', [Globalization.CultureInfo]::InvariantCulture) }) -join ' '
            MsPerKFiles  = [Math]::Round(1000 * (Get-Median @($rows | ForEach-Object { $_.($pair.GeoSync) })) / ($Files / 1000), 1)
        }
    }
    $summary | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
}
finally {
    Get-GeoSyncSession | Stop-GeoSyncSession -Confirm:$false
    if (Test-Path -LiteralPath $WorkDirectory) { & rm -rf -- $WorkDirectory }
}

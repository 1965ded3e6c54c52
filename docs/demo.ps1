<#
.SYNOPSIS
    GeoSync's demo: URLs as gsyncd reads them, xtime and volume marks on real files, and a directory slave answering
    RePCe calls from a GeoSync master-side client.
.PARAMETER ModulePath
    The laid-out module manifest (out/GeoSync/GeoSync.psd1).
.PARAMETER HostPath
    The published geosync executable (out/geosync/geosync).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $HostPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

Write-Step 'How gsyncd understands URLs (Resolve-GeoSyncUrl)'
Resolve-GeoSyncUrl -Url ':gv1', 'localhost::gv2', 'geo@127.0.0.1:/srv/slave', '/data//master/../copy' |
    Format-Table Url, Scheme, Normalized, Canonical -AutoSize | Out-Host

$work = Join-Path ([IO.Path]::GetTempPath()) "geosync-demo-$PID"
$master = Join-Path $work 'master'
$slave = Join-Path $work 'slave'
$null = New-Item -ItemType Directory -Path (Join-Path $master 'docs'), $slave
$volumeId = [guid]::NewGuid()
try {
    Write-Step "xtime on real files, as the marker keeps it (volume $volumeId)"
    'hello' | Set-Content -LiteralPath (Join-Path $master 'docs/a.txt')
    'world' | Set-Content -LiteralPath (Join-Path $master 'b.txt')
    Get-ChildItem -LiteralPath $master -Recurse -File | Set-GlusterXtime -VolumeId $volumeId -Now
    Start-Sleep -Milliseconds 20
    Set-GlusterXtime -LiteralPath (Join-Path $master 'b.txt') -VolumeId $volumeId -Now
    Get-GlusterXtime -Path (Join-Path $master '*'), (Join-Path $master 'docs/*') -VolumeId $volumeId -ErrorAction SilentlyContinue |
        Sort-Object Xtime -Descending | Format-Table Path, Xtime, Time -AutoSize | Out-Host

    Write-Step "A directory slave: geosync slave file://$slave --listen, driven over RePCe"
    $start = [Diagnostics.ProcessStartInfo]::new($HostPath)
    foreach ($arg in 'slave', "file://$slave", '--listen') { $start.ArgumentList.Add($arg) }
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($start)
    $client = [GeoSync.Engine.Rpc.RepceClient]::new($process.StandardOutput.BaseStream, $process.StandardInput.BaseStream, $null)
    function Invoke-Slave([string] $Method, [object[]] $Arguments = @()) {
        $list = [Collections.Generic.List[object]]::new()
        foreach ($a in $Arguments) { $list.Add($a) }
        $client.CallAsync($Method, $list, $null, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
    }
    $versions = $client.HandshakeAsync(1.0, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
    "handshake: remote $versions, slave pid $(Invoke-Slave 'pid')"
    $null = Invoke-Slave 'mkdir' @('docs')
    $null = Invoke-Slave 'symlink' @('docs/a.txt', 'link')
    $xtime = Get-GlusterXtime -LiteralPath (Join-Path $master 'docs/a.txt') -VolumeId $volumeId
    $null = Invoke-Slave 'set_xtime' @('docs', "$volumeId", [GeoSync.Engine.Rpc.PyTuple]::new([object[]]@([long] $xtime.Seconds, [long] $xtime.Microseconds)))
    "entries('.')           -> $((Invoke-Slave 'entries' @('.')) -join ', ')"
    "xtime('docs')          -> $(Invoke-Slave 'xtime' @('docs', "$volumeId"))"
    "xtime('link') (unset)  -> $(Invoke-Slave 'xtime' @('link', "$volumeId")) (ENODATA)"
    try { $null = Invoke-Slave 'entries' @('/etc') } catch { "entries('/etc')        -> refused: $($_.Exception.InnerException.Message)" }
    $mark = [GeoSync.Engine.Xattrs.VolumeMark]::new(1, 0, $volumeId, 0, [GeoSync.Engine.Xattrs.Xtime]::Now($null),
        [uint32] ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + 120))
    "keep_alive(mark)       -> $(Invoke-Slave 'keep_alive' @(,$mark.ToWireDictionary()))"
    $null = $client.DisposeAsync().AsTask().GetAwaiter().GetResult()
    $process.WaitForExit()
    "slave exited with $($process.ExitCode) at end of input"

    Write-Step 'The foreign volume mark the keep-alive left on the slave root (Get-GlusterVolumeMark -Foreign)'
    Get-GlusterVolumeMark -LiteralPath $slave -Foreign | Format-Table VolumeId, Version, Mark, Expiry, IsForeign -AutoSize | Out-Host
}
finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

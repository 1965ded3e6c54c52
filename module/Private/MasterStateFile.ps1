# The state file of a master loop (gsyncd's state file, docs/master-loop.md, "The state file", with GeoSync's additions): one JSON file per master and
# slave pair in a state directory, replaced atomically on every change, so `geosync status` (Get-GeoSyncStatus) never reads
# a half-written file. A lock file next to it is held for the loop's life, so two loops never replicate the same pair.

# $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root (where gsyncd's glusterd keeps its state), else the user's
# XDG state directory.
function Get-GeoSyncDefaultStateDirectory {
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if ($env:GEOSYNC_STATE_DIR) { return $env:GEOSYNC_STATE_DIR }
    if ([Environment]::IsPrivilegedProcess) { return '/var/lib/geosync' }
    $stateHome = if ($env:XDG_STATE_HOME) { $env:XDG_STATE_HOME } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.local/state' }
    Join-Path $stateHome 'geosync'
}

# A file name that tells the pair apart at a glance and never collides: the URLs with every character outside
# [A-Za-z0-9.-] replaced, plus a hash of the exact pair (two URLs may differ only in replaced characters).
function Get-GeoSyncStateFileName {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $Master,
        [Parameter(Mandatory)] [string] $Slave
    )

    $readable = "$Master--$Slave" -replace '^[a-z]+:/+', '' -replace '--[a-z]+:/+', '--' -replace '[^A-Za-z0-9.-]+', '_'
    if ($readable.Length -gt 120) { $readable = $readable.Substring(0, 120) }
    $bytes = [System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::UTF8.GetBytes("$Master`n$Slave"))
    $hash = [System.Convert]::ToHexString($bytes, 0, 4).ToLowerInvariant()
    "$readable.$hash.json"
}

# Writes the state as JSON to a temporary file in the same directory, flushes it to disk and renames it over the state
# file (what gsyncd does for its state file), so readers see the old or the new state, never a torn one.
function Write-GeoSyncStateFile {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $State
    )

    $State['Updated'] = [DateTimeOffset]::Now.ToString('o', [cultureinfo]::InvariantCulture)
    $json = $State | ConvertTo-Json -Depth 4
    $temporary = "$Path.tmp.$PID"
    $stream = [System.IO.FileStream]::new($temporary, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
    try {
        $bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($json + "`n")
        $stream.Write($bytes, 0, $bytes.Length)
        $stream.Flush($true)
    }
    finally {
        $stream.Dispose()
    }
    [System.IO.File]::Move($temporary, $Path, $true)
}

# Takes the pair's lock (an exclusive lock on <state file>.lock, released when the stream is closed or the process
# ends); returns the open stream, or $null when another process holds it.
function Lock-GeoSyncStateFile {
    [CmdletBinding()]
    [OutputType([System.IO.FileStream])]
    param(
        [Parameter(Mandatory)] [string] $Path
    )

    try {
        [System.IO.FileStream]::new("$Path.lock", [System.IO.FileMode]::OpenOrCreate, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None)
    }
    catch [System.IO.IOException] {
        $null
    }
}

# Whether the process that wrote a state file still runs: the pid is alive and started when the file says (in Unix
# milliseconds), since a pid can be reused after the loop died.
function Test-GeoSyncStateOwner {
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] [int] $ProcessId,
        [long] $ProcessStartTime
    )

    $process = Get-Process -Id $ProcessId -ErrorAction Ignore
    if (-not $process) { return $false }
    try {
        if (-not $ProcessStartTime) { return $true }
        $started = ([DateTimeOffset]$process.StartTime).ToUnixTimeMilliseconds()
        [Math]::Abs($started - $ProcessStartTime) -lt 2000
    }
    finally {
        $process.Dispose()
    }
}

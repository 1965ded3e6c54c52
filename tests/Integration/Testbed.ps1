# Helpers for the live GlusterFS tests (tag 'Gluster'): the testbed's env file (tests/testbed/README.md) and the mount
# table. Dot-source it in BeforeDiscovery and in BeforeAll.

# The testbed dir: $env:GEOSYNC_TESTBED_DIR, or the testbed script's default.
function Get-GlusterTestbedDirectory {
    if ($env:GEOSYNC_TESTBED_DIR) { $env:GEOSYNC_TESTBED_DIR } else { '/var/tmp/geosync-testbed' }
}

# True when the Gluster tests must be skipped: no testbed here and not in CI. In CI a missing testbed is a failure
# (Import-GlusterTestbed throws), never a skip.
function Test-SkipGlusterTest {
    $envFile = Join-Path (Get-GlusterTestbedDirectory) 'env'
    if ((Test-Path -LiteralPath $envFile) -or $env:CI -eq 'true') { return $false }
    Write-Warning ("Skipping the GlusterFS tests: no testbed env file at $envFile. Bring one up with " +
        "'tests/testbed/testbed.sh up' (as root), or set GEOSYNC_TESTBED_DIR.")
    $true
}

# The env file as a hashtable without the GEOSYNC_TB_ prefix (SERVER, NETNS, MVOL_ID, ...).
function Import-GlusterTestbed {
    $envFile = Join-Path (Get-GlusterTestbedDirectory) 'env'
    if (-not (Test-Path -LiteralPath $envFile)) {
        throw "The GlusterFS testbed env file $envFile is missing. Run 'tests/testbed/testbed.sh up' as root before the " +
            "integration tests (CI requires it), or set GEOSYNC_TESTBED_DIR to the testbed dir."
    }
    if ((& id -u) -ne '0') { throw 'The GlusterFS tests need root: they mount FUSE file systems and enter a network namespace.' }
    $testbed = @{}
    foreach ($line in Get-Content -LiteralPath $envFile) {
        if ($line -match '^\s*(#|$)') { continue }
        $key, $value = $line -split '=', 2
        if ($value.Length -ge 2 -and $value.StartsWith("'") -and $value.EndsWith("'")) { $value = $value.Substring(1, $value.Length - 2) }
        $testbed[$key -replace '^GEOSYNC_TB_', ''] = $value
    }
    $testbed
}

# The FUSE mounts of this mount namespace: Source, MountPoint (unescaped), Type.
function Get-FuseMount {
    foreach ($line in Get-Content -LiteralPath /proc/self/mountinfo) {
        $fields = $line -split ' '
        $separator = [array]::IndexOf($fields, '-', 6)
        if ($separator -lt 0 -or $fields[$separator + 1] -notlike 'fuse*') { continue }
        $point = [regex]::Replace($fields[4], '\\([0-7]{3})', { param($m) [string][char][Convert]::ToInt32($m.Groups[1].Value, 8) })
        [pscustomobject]@{ Source = $fields[$separator + 2]; MountPoint = $point; Type = $fields[$separator + 1] }
    }
}

# Polls $Condition every 100 ms for at most $Seconds; returns whether it became true.
function Wait-Condition {
    param([Parameter(Mandatory)] [scriptblock] $Condition, [double] $Seconds = 5)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($clock.Elapsed.TotalSeconds -lt $Seconds) {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds 100
    }
    [bool](& $Condition)
}

# argv prefix that starts a fresh pwsh like this one (under `dotnet pwsh` the process is dotnet and needs pwsh.dll).
function Get-PwshCommand {
    $exe = [Environment]::ProcessPath
    if ((Split-Path -Leaf $exe) -like 'dotnet*') { @($exe, (Join-Path $PSHOME 'pwsh.dll')) } else { @($exe) }
}

# A normal (xtime-stamping) FUSE mount of a testbed volume, as an application writes through it, on
# <MOUNT_DIR>/<Name> with its log in <LOG_DIR>/<Name>.log; returns the mount point.
function Mount-TestbedVolume {
    param(
        [Parameter(Mandatory)] [hashtable] $Testbed,
        [Parameter(Mandatory)] [string] $Volume,
        [Parameter(Mandatory)] [string] $Name
    )
    $point = Join-Path $Testbed.MOUNT_DIR $Name
    $null = New-Item -ItemType Directory -Path $point -Force
    & nsenter "--net=$($Testbed.NETNS_PATH)" glusterfs "--volfile-server=$($Testbed.SERVER)" "--volfile-id=$Volume" `
        "--log-file=$(Join-Path $Testbed.LOG_DIR "$Name.log")" $point
    if ($LASTEXITCODE -ne 0) { throw "mounting $Volume on $point failed (exit $LASTEXITCODE)" }
    if (-not (Wait-Condition { @(Get-FuseMount).MountPoint -contains $point } -Seconds 10)) { throw "$point never mounted" }
    $point
}

# Undoes Mount-TestbedVolume: a lazy unmount when still mounted, then removes the (empty) mount point. Never
# recursive: a mount left behind must fail loudly, not have its volume's files deleted.
function Dismount-TestbedVolume {
    param([string] $MountPoint)
    if (-not $MountPoint) { return }
    if (@(Get-FuseMount).MountPoint -contains $MountPoint) {
        & umount -l $MountPoint
        if (-not (Wait-Condition { @(Get-FuseMount).MountPoint -notcontains $MountPoint })) { throw "$MountPoint is still mounted" }
    }
    if (Test-Path -LiteralPath $MountPoint) { [IO.Directory]::Delete($MountPoint) }
}

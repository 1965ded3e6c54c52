function Get-GeoSyncStatus {
    <#
    .SYNOPSIS
        Shows the master loops of this host: their state, last turn and last error, from their state files.

    .DESCRIPTION
        Every Invoke-GeoSyncMaster loop (and so every `geosync master`) keeps a state file for its master and slave pair
        in a state directory (gsyncd's state file, docs/master-loop.md, "The state file"). Get-GeoSyncStatus reads them and writes one object per
        pair: Master, Slave, State, the loop's process, counts, the last turn that did something and the last error.

        States: Starting (no session connected yet), Active (a session runs turns), Faulty (the last session failed; the
        loop reconnects at NextAttempt), Stopped (the loop ended: Ctrl+C, -Once, -MaxTurns), Failed (the loop gave up: a
        fatal error or -MaxReconnects exceeded). A file whose loop process is gone while it still claims Starting,
        Active or Faulty shows Defunct (the loop was killed), as glusterd shows a session whose monitor died.

        A state file that cannot be read is reported as a non-terminating StateFileUnreadable error and the others are
        still listed.

    .PARAMETER StateDirectory
        The state directory to read: $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else
        ~/.local/state/geosync (the same default as Invoke-GeoSyncMaster). A missing directory lists nothing.

    .PARAMETER Master
        List only the pairs whose master URL (normalized, as in the output) matches this wildcard pattern.

    .PARAMETER Slave
        List only the pairs whose slave URL (normalized, as in the output) matches this wildcard pattern.

    .EXAMPLE
        Get-GeoSyncStatus

        Lists every master loop of this host with its state, the time of its last turn, its file count and last error.

    .EXAMPLE
        Get-GeoSyncStatus -Master 'gluster://*:mvol' | Select-Object -ExpandProperty LastTurn

        Shows what the last busy turn of the loops replicating mvol did.

    .EXAMPLE
        Get-GeoSyncStatus -StateDirectory /srv/geosync/state | Where-Object State -in 'Faulty', 'Defunct', 'Failed'

        Lists the loops that need attention, from a state directory given to Invoke-GeoSyncMaster -StateDirectory.

    .INPUTS
        None.

    .OUTPUTS
        GeoSync.MasterStatus
        Master, Slave, State, ProcessId, StartTime, Updated, SessionName, SlaveProcessId, TurnsCompleted, FilesSynced,
        BytesSynced, Reconnects, LastTurn, LastError, LastErrorTime, NextAttempt and Path (the state file).

    .LINK
        Invoke-GeoSyncMaster
    #>
    [CmdletBinding(PositionalBinding = $false)]
    [OutputType('GeoSync.MasterStatus')]
    param(
        [ValidateNotNullOrEmpty()]
        [string] $StateDirectory = (Get-GeoSyncDefaultStateDirectory),

        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string] $Master = '*',

        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string] $Slave = '*'
    )

    $directory = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($StateDirectory)
    if (-not (Test-Path -LiteralPath $directory -PathType Container)) {
        Write-Verbose "No state directory at ${directory}: no master loop has run with it."
        return
    }

    $live = 'Starting', 'Active', 'Faulty'
    # The pairs' failure ledgers (*.failures.json) live in the same directory; Get-GeoSyncFailure reads them.
    $stateFiles = Get-ChildItem -LiteralPath $directory -Filter '*.json' -File | Where-Object Name -NotLike '*.failures.json'
    foreach ($file in $stateFiles | Sort-Object -Property Name) {
        # No try/catch here: an error caught inside an advanced function still lands in the caller's -ErrorVariable.
        $text = Get-Content -LiteralPath $file.FullName -Raw -ErrorAction Ignore
        $problem = $null
        if ($null -eq $text) { $problem = 'it cannot be opened' }
        elseif (-not (Test-Json -Json $text -ErrorAction Ignore)) { $problem = 'it is not valid JSON' }
        else {
            $data = ConvertFrom-Json -InputObject $text
            if ($data -isnot [pscustomobject]) { $problem = 'it is not a JSON object' }
            else {
                $missing = @('Master', 'Slave', 'State', 'ProcessId' | Where-Object { $data.PSObject.Properties.Name -notcontains $_ })
                if ($missing) { $problem = "it has no $($missing -join ', ') field" }
            }
        }
        if ($problem) {
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                    [System.IO.InvalidDataException]::new("The state file $($file.FullName) cannot be read: $problem. Remove it if no master loop uses it."),
                    'StateFileUnreadable', [System.Management.Automation.ErrorCategory]::ReadError, $file.FullName))
            continue
        }
        if ($data.Master -notlike $Master -or $data.Slave -notlike $Slave) { continue }

        $state = $data.State
        $startTime = $data.PSObject.Properties['ProcessStartTime']
        if ($state -in $live -and -not (Test-GeoSyncStateOwner -ProcessId $data.ProcessId -ProcessStartTime $(if ($startTime) { $startTime.Value } else { 0 }))) {
            $state = 'Defunct'
        }
        # Fields a file lacks (written by an older loop, or by hand) are shown empty.
        $field = { param($name) $property = $data.PSObject.Properties[$name]; if ($property) { $property.Value } }
        [pscustomobject]@{
            PSTypeName     = 'GeoSync.MasterStatus'
            Master         = $data.Master
            Slave          = $data.Slave
            State          = $state
            ProcessId      = $data.ProcessId
            StartTime      = & $field 'StartTime'
            Updated        = & $field 'Updated'
            SessionName    = & $field 'SessionName'
            SlaveProcessId = & $field 'SlaveProcessId'
            TurnsCompleted = & $field 'TurnsCompleted'
            FilesSynced    = & $field 'FilesSynced'
            BytesSynced    = & $field 'BytesSynced'
            Reconnects     = & $field 'Reconnects'
            LastTurn       = & $field 'LastTurn'
            LastError      = & $field 'LastError'
            LastErrorTime  = & $field 'LastErrorTime'
            NextAttempt    = & $field 'NextAttempt'
            Path           = $file.FullName
        }
    }
}

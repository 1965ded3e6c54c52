function Get-GeoSyncFailure {
    <#
    .SYNOPSIS
        Lists the paths that did not reach the slave, from the failure ledgers of the master loops.

    .DESCRIPTION
        Every Invoke-GeoSyncMaster loop (and so every `geosync master`) keeps a failure ledger for its master and slave
        pair next to its state file (a named replication's is in its own folder, replications/NAME/failures.json): each path that failed to reach the slave, with its last error, how many turns in a
        row it failed, and when it failed first and last. The ledger survives the loop; a new loop for the same pair
        retries the paths, and an entry is cleared by the first turn that completes without failing it again (it
        arrived, or it is gone from the master).

        Get-GeoSyncFailure reads the ledgers and writes one object per failed path. A path that failed in
        PersistentAfter turns in a row (3) is Persistent and carries a Hint: what to do about its kind of error
        (space, a read-only slave, permissions, ...).

        A ledger file that cannot be read is reported as a non-terminating FailureLedgerUnreadable error and the other
        ledgers are still read. No ledger, or an empty one, lists nothing.

    .PARAMETER Name
        List only the named replication(s) (New-GeoSyncReplication) with this name, or names matching this wildcard
        pattern. A name that is no replication is reported as a non-terminating ReplicationNotFound error.

    .PARAMETER Master
        List only the pair(s) with this master: a URL as given to Invoke-GeoSyncMaster (it is normalized, so /srv/data
        finds file:///srv/data), or a wildcard pattern matched against the normalized URL.

    .PARAMETER Slave
        List only the pair(s) with this slave: a URL as given to Invoke-GeoSyncMaster, or a wildcard pattern matched
        against the normalized URL.

    .PARAMETER StateDirectory
        The state directory to read: $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else
        ~/.local/state/geosync (the same default as Invoke-GeoSyncMaster). A missing directory lists nothing.

    .EXAMPLE
        Get-GeoSyncFailure -Master /srv/data -Slave file:///mnt/backup

        Lists the paths of /srv/data that the loop replicating it to /mnt/backup could not bring to the slave yet.

    .EXAMPLE
        Get-GeoSyncFailure -Name mvol-dr

        Lists what the named replication mvol-dr could not bring to its slave yet (also `geosync failures mvol-dr`).

    .EXAMPLE
        Get-GeoSyncFailure | Where-Object Persistent | Format-List Path, Error, Attempts, FirstFailed, Hint

        Shows every path that keeps failing, on every pair of this host, with the recommended action.

    .EXAMPLE
        Get-GeoSyncFailure -StateDirectory /srv/geosync/state | Group-Object Master, Slave -NoElement

        Counts the failed paths per pair, in a state directory given to Invoke-GeoSyncMaster -StateDirectory.

    .INPUTS
        None.

    .OUTPUTS
        GeoSync.Failure
        Replication (the name, or empty for a loop run without one), Master, Slave, Path, Error, Errno, Attempts,
        FirstFailed, LastFailed, Persistent, Hint and LedgerPath.

    .LINK
        Invoke-GeoSyncMaster

    .LINK
        Get-GeoSyncStatus
    #>
    [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Pair', HelpUri = 'https://geosync.invalid/help/Get-GeoSyncFailure')]
    [OutputType('GeoSync.Failure')]
    param(
        [Parameter(ParameterSetName = 'Replication', Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [ArgumentCompleter([GeoSync.PowerShell.ReplicationNameCompleter])]
        [string] $Name,

        [Parameter(ParameterSetName = 'Pair', Position = 0)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string] $Master = '*',

        [Parameter(ParameterSetName = 'Pair', Position = 1)]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string] $Slave = '*',

        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $StateDirectory = [GeoSync.Engine.Operations.StateDirectory]::Resolve($null)
    )

    process {
        # A URL is compared in its normalized form, as the ledger stores it; a pattern is matched as it is.
        $patterns = foreach ($url in $Master, $Slave) {
            if ([WildcardPattern]::ContainsWildcardCharacters($url)) { $url; continue }
            $resolved = Resolve-GeoSyncUrl -Url $url -Verbose:$false -ErrorAction SilentlyContinue -ErrorVariable urlErrors
            $parseError = @($urlErrors | Where-Object { $_.FullyQualifiedErrorId -like 'InvalidGeoSyncUrl*' }) | Select-Object -First 1
            if ($parseError) { $PSCmdlet.ThrowTerminatingError($parseError) }
            [WildcardPattern]::Escape($resolved.Normalized)
        }
        $masterPattern, $slavePattern = $patterns

        $directory = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($StateDirectory)
        if ($PSCmdlet.ParameterSetName -eq 'Replication' -and -not [WildcardPattern]::ContainsWildcardCharacters($Name) -and
            -not [GeoSync.Engine.Operations.ReplicationStore]::new($directory).Exists($Name)) {
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                    [GeoSync.Engine.Operations.GeoSyncReplicationNotFoundException]::new($Name, $directory), 'ReplicationNotFound',
                    [System.Management.Automation.ErrorCategory]::ObjectNotFound, $Name))
            return
        }
        if (-not (Test-Path -LiteralPath $directory -PathType Container)) {
            Write-Verbose "No state directory at ${directory}: no master loop has run with it."
            return
        }

        # The ledgers of loops run on a pair (STATE/<pair>.failures.json) and of named replications (STATE/replications/NAME/failures.json).
        $ledgers = [System.Collections.Generic.List[object]]::new()
        if ($PSCmdlet.ParameterSetName -eq 'Pair') {
            foreach ($file in Get-ChildItem -LiteralPath $directory -Filter '*.failures.json' -File | Sort-Object -Property Name) {
                $ledgers.Add([pscustomobject]@{ Replication = $null; Path = $file.FullName })
            }
        }
        $names = @([GeoSync.Engine.Operations.ReplicationPaths]::ListNames($directory))
        if ($PSCmdlet.ParameterSetName -eq 'Replication') { $names = @($names | Where-Object { $_ -like $Name }) }
        foreach ($replicationName in $names) {
            $path = [GeoSync.Engine.Operations.ReplicationPaths]::new($directory, $replicationName).FailureLedgerFile
            if (Test-Path -LiteralPath $path -PathType Leaf) { $ledgers.Add([pscustomobject]@{ Replication = $replicationName; Path = $path }) }
        }

        foreach ($file in $ledgers) {
            $ledger = $null
            $problem = $null
            if (-not [GeoSync.Engine.Master.FailureLedger]::TryReadFile($file.Path, [ref] $ledger, [ref] $problem)) {
                $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                        [System.IO.InvalidDataException]::new($problem), 'FailureLedgerUnreadable',
                        [System.Management.Automation.ErrorCategory]::ReadError, $file.Path))
                continue
            }
            if (-not $ledger -or $ledger.Master -notlike $masterPattern -or $ledger.Slave -notlike $slavePattern) { continue }
            foreach ($entry in $ledger.Entries) {
                [pscustomobject]@{
                    PSTypeName  = 'GeoSync.Failure'
                    Replication = $file.Replication
                    Master      = $ledger.Master
                    Slave       = $ledger.Slave
                    Path        = $entry.Path
                    Error       = $entry.Reason
                    Errno       = $entry.Errno
                    Attempts    = $entry.Attempts
                    FirstFailed = $entry.FirstFailed
                    LastFailed  = $entry.LastFailed
                    Persistent  = $entry.IsPersistent
                    Hint        = $entry.Hint
                    LedgerPath  = $file.Path
                }
            }
        }
    }
}

function Invoke-GeoSyncMaster {
    <#
    .SYNOPSIS
        Replicates a master to a slave until stopped: opens a session, runs crawl turns, and reconnects when it fails.

    .DESCRIPTION
        Invoke-GeoSyncMaster is the master loop of geo-replication (gsyncd's monitor and worker; see docs/master-loop.md). It
        opens a session with Start-GeoSyncSession and runs crawl turns with Invoke-GeoSyncCrawl, one after the other.
        When a turn found the slave up to date, it waits -Interval seconds before the next one (1 s, the cadence of
        gsyncd's root crawl) with Wait-GeoSyncChange, which a watched directory master ends as soon as it changes; a
        turn that found changes is followed at once by the next. The session's keep-alive runs
        all the time, so the slave does not end itself while the loop waits.

        When the session fails (the slave process or ssh connection ended, a keep-alive was not answered, a turn hit a
        fatal error) or cannot be opened, the loop stops the session, warns with the error, and opens a new one after a
        delay that doubles from 1 s up to 60 s. The new session resumes where the old one left off: the slave's xtimes
        say what already arrived. The delay starts again at 1 s once a turn completes. -MaxReconnects bounds the number
        of consecutive failures; when it is exceeded the loop ends with a terminating error. Failures that no retry can
        fix (a malformed URL, a corrupt master, several foreign masters, rsync or the glusterfs client not installed, a
        master and slave that overlap (ReplicaOverlap), a first sync into a slave holding someone else's entries
        without -Force (SlaveNotEmpty)) end the loop at once.

        The first turn of a loop is the first full sync: it shows progress (files, bytes and rate) through
        Invoke-GeoSyncCrawl. Each turn that changed something or failed on some paths is written to the pipeline as a
        GeoSyncTurnResult; idle turns are only narrated with -Verbose. With -Once the loop runs one turn, writes its
        result whatever it did, and returns; with -MaxTurns the last turn's result is written too.

        After each turn's result, every path that did not reach the slave is written as a non-terminating error with
        the id EntryNotSynced and the path as target (-ErrorAction SilentlyContinue silences them, -ErrorVariable
        collects them). The paths are kept in a failure ledger next to the state file, across turns and restarts, and
        retried every turn until they arrive; Get-GeoSyncFailure lists them. `geosync master --once` exits 3 when its
        turn wrote such errors, 0 when everything arrived, and 1 on a terminating error.

        The loop keeps a state file (gsyncd's state file, docs/master-loop.md, "The state file") in -StateDirectory: the state (Starting, Active,
        Faulty, Stopped, Failed), the process, the session, counts, the last turn and the last error, replaced atomically
        on every change. Get-GeoSyncStatus and `geosync status` read these files. A lock next to the file keeps a second
        loop from replicating the same pair at the same time.

        Press Ctrl+C to stop: the running turn is abandoned, the session is stopped (its slave ends, its mounts are
        unmounted) and the state file says Stopped.

        -WhatIf is a dry run of one turn, with or without -Once (a loop of dry runs would only repeat it): the loop
        opens a session, runs Invoke-GeoSyncCrawl -WhatIf, which outputs each change the turn would make (a
        GeoSyncPlannedChange: Action, Type, Path, Reason) and one "What if:" line with the counts, and stops the
        session. Nothing changes on the master or the slave, and no state file or lock is written: a dry run does not
        mark the pair as having run. The session itself does start: the master volume and a Gluster slave are
        mounted and the slave process runs, which changes none of the replicated data (on a GlusterFS master, the
        session's keep-alive refreshes its volume mark on the slave root, as every session does).

    .PARAMETER Master
        The master: gluster://HOST:VOL (or HOST:VOL, :VOL) for a GlusterFS volume, or a directory (file:///DIR or /DIR).

    .PARAMETER Slave
        The slave: file:///DIR, gluster://HOST:VOL, or ssh://[USER@]HOST:(/DIR|VOL) (also [USER@]HOST:/DIR, HOST::VOL).

    .PARAMETER Replication
        The name of a replication defined with New-GeoSyncReplication (or `geosync create`): the master, the slave and
        the options come from its stored configuration, and any option given here overrides the stored one for this
        run. Its state file and failure ledger are kept in the replication's folder under -StateDirectory. This is
        what a replication's supervisor runs (`geosync master --replication NAME`).

    .PARAMETER Name
        The name of the sessions the loop opens, for Get-GeoSyncSession; Session<Id> by default.

    .PARAMETER Once
        Run a single turn, write its result and return. Failures are then not retried unless -MaxReconnects is given.

    .PARAMETER Interval
        Seconds to wait after a turn that found nothing to do; 1 by default. 0 runs turns back to back.

    .PARAMETER MaxTurns
        Return after this many completed turns (idle ones included). Without it the loop runs until stopped.

    .PARAMETER MaxReconnects
        How many consecutive failures (failed opens or failed sessions, without a completed turn in between) the loop
        retries before it gives up with a terminating error. Unlimited by default; 0 with -Once.

    .PARAMETER StateDirectory
        Where the loop keeps its state file (and where -Replication is looked up): $env:GEOSYNC_STATE_DIR, else /var/lib/geosync for root, else
        ~/.local/state/geosync. Created when missing. The file is named after the pair; its counters (files, bytes,
        entries created and purged) carry on from the previous run of the same pair.

    .PARAMETER StatePath
        The state record file to keep, instead of the pair's file in -StateDirectory: for a supervisor or a test that
        runs a pair outside the state directory. The failure ledger goes beside it. A named replication
        (-Replication) keeps its state.json in its own folder without it.

    .PARAMETER CheckpointPath
        A checkpoint file (written by Set-GeoSyncCheckpoint) that the loop reads at the end of every turn: when
        LastSynced reaches the checkpoint, the loop records the completion time in its state record
        (CheckpointCompletedAt), which Wait-GeoSyncCheckpoint and Get-GeoSyncStatus read. Without it no checkpoint is
        followed. A named replication (-Replication) follows its own checkpoint.json without it.

    .PARAMETER SyncJobs
        How many rsync processes may run at once (sync_jobs): 3, or half the processor count when that is fewer.
        Passed to Start-GeoSyncSession.

    .PARAMETER Timeout
        Seconds the slave waits for a keep-alive before it ends itself; the keep-alive goes every half of it. 0 = never;
        120 by default. Passed to Start-GeoSyncSession.

    .PARAMETER SlaveMode
        How the slave is reached: Auto (ssh:// slaves over Ssh, others InProcess), InProcess, Child (a local geosync
        slave process) or Ssh. Passed to Start-GeoSyncSession.

    .PARAMETER SshCommand
        The ssh client with options of its own, e.g. 'ssh -oConnectTimeout=10'. Passed to Start-GeoSyncSession.

    .PARAMETER SshPort
        The slave host's ssh port. Passed to Start-GeoSyncSession.

    .PARAMETER IdentityFile
        The private key that logs in to the slave host. Passed to Start-GeoSyncSession.

    .PARAMETER KnownHostsFile
        The known-hosts file that pins the slave host's key. Passed to Start-GeoSyncSession.

    .PARAMETER RemoteCommand
        The command the slave host runs, one word per element; 'geosync', 'slave' by default. Passed to
        Start-GeoSyncSession.

    .PARAMETER SlaveCommand
        The local slave command for -SlaveMode Child, one word per element. Passed to Start-GeoSyncSession.

    .PARAMETER NetworkNamespace
        The network namespace in which this host's glusterfs clients reach glusterd. Passed to Start-GeoSyncSession.

    .PARAMETER GlusterCommandDirectory
        The directory holding glusterfs, when it is not on PATH or in /usr/sbin. Passed to Start-GeoSyncSession.

    .PARAMETER GlusterLogDirectory
        The directory for the aux mounts' client logs. Passed to Start-GeoSyncSession.

    .PARAMETER ConnectionTimeoutSec
        Seconds each connection phase (a mount, the slave's handshake) may take; 60 by default. Passed to
        Start-GeoSyncSession.

    .PARAMETER IgnoreDeletes
        Keep entries on the slave that the master no longer has. Passed to Start-GeoSyncSession.

    .PARAMETER MaxDeleteShare
        The mass-deletion guard: a purge of 10 or more entries that is more than this share (0 to 1) of a directory's
        slave entries in one turn is held back and reported, and retried next turn; 1 allows any purge. 0.5 by default.
        Passed to Start-GeoSyncSession.

    .PARAMETER DirectoryPruning
        Whether turns skip subtrees whose directory xtime did not change: Auto (default: only on a master with one
        subvolume), Enabled or Disabled. Passed to Start-GeoSyncSession.

    .PARAMETER Watch
        How a directory master finds changes: Auto (default: watch it with inotify, so a turn compares only what
        changed and a change starts a turn at once; a full comparison whenever the watch cannot be trusted, said in the
        log) or Disabled (compare both trees in full every turn). A run with -Once or -WhatIf never watches. Passed to
        Start-GeoSyncSession.

    .PARAMETER Xattrs
        rsync copies extended attributes too; the slave must run as root. Passed to Start-GeoSyncSession.

    .PARAMETER Force
        Allow the first sync into a slave that holds entries this master did not put there: the entries the master
        lacks are deleted. Without it the first turn refuses with SlaveNotEmpty and the loop ends. Passed to
        Start-GeoSyncSession.

    .PARAMETER HeartbeatPath
        A file the loop touches (sets its modification time to now) at the end of every turn, and the session whenever
        the slave answers a keep-alive: the sign of life that the replication supervisor (geosync monitor) watches to
        tell a hung worker. Passed to Start-GeoSyncSession.

    .PARAMETER WhatIf
        Plans one turn and outputs the changes it would make, changing nothing on the master or the slave and writing
        no state file (a dry run; -Once is implied). The session is opened and stopped again for it.

    .PARAMETER Confirm
        Prompts for confirmation before the loop starts.

    .EXAMPLE
        Invoke-GeoSyncMaster -Master gluster://gluster1:mvol -Slave file:///srv/mvol-copy

        Replicates the volume mvol into /srv/mvol-copy on this host until Ctrl+C, writing each turn that changed
        something.

    .EXAMPLE
        Invoke-GeoSyncMaster -Master /srv/data -Slave ssh://root@backup1:/srv/data -IdentityFile ~/.ssh/geosync -Once

        One turn from a plain directory to another host over ssh: the first run copies everything, later runs only what
        changed. The turn's result is written whatever it did.

    .EXAMPLE
        Invoke-GeoSyncMaster :mvol backup1::svol -MaxReconnects 5 -Verbose 4>> /var/log/geosync-mvol.log

        Replicates mvol to the volume svol on backup1 over ssh, narrating every turn into a log, and gives up after five
        consecutive failed reconnections.

    .EXAMPLE
        Invoke-GeoSyncMaster -Replication mvol-dr -Once -SyncJobs 8

        Runs one turn of the replication mvol-dr as stored (New-GeoSyncReplication), with 8 rsync processes for this
        run only; the stored configuration is unchanged.

    .EXAMPLE
        Invoke-GeoSyncMaster -Master /srv/data -Slave file:///srv/copy -WhatIf

        A dry run: lists what the first turn would create, update and purge in /srv/copy, with the reasons, and changes
        nothing. `geosync master /srv/data file:///srv/copy --dry-run` prints the same as lines.

    .INPUTS
        None.

    .OUTPUTS
        GeoSync.PowerShell.GeoSyncTurnResult
        One per turn that changed something or failed on some paths (every turn with -Once, and the last one with
        -MaxTurns).

        GeoSync.PowerShell.GeoSyncPlannedChange
        With -WhatIf: one per change the planned turn would make.

    .NOTES
        The reconnect delay is 1, 2, 4, ... 60 s, where gsyncd 3.3 waits a fixed 10 s; the state file adds the last turn
        and the last error to gsyncd's state. Ctrl+C, or SIGTERM to `geosync master`, stops the loop cleanly.

    .LINK
        Start-GeoSyncSession

    .LINK
        Invoke-GeoSyncCrawl

    .LINK
        Get-GeoSyncStatus

    .LINK
        Get-GeoSyncFailure
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium', PositionalBinding = $false, DefaultParameterSetName = 'Pair',
        HelpUri = 'https://geosync.invalid/help/Invoke-GeoSyncMaster')]
    [OutputType('GeoSync.PowerShell.GeoSyncTurnResult', 'GeoSync.PowerShell.GeoSyncPlannedChange')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Pair')]
        [ValidateNotNullOrEmpty()]
        [string] $Master,

        [Parameter(Mandatory, Position = 1, ParameterSetName = 'Pair')]
        [ValidateNotNullOrEmpty()]
        [string] $Slave,

        [Parameter(Mandatory, ParameterSetName = 'Replication')]
        [ValidateNotNullOrEmpty()]
        [ArgumentCompleter([GeoSync.PowerShell.ReplicationNameCompleter])]
        [string] $Replication,

        [ValidateNotNullOrEmpty()]
        [string] $Name,

        [switch] $Once,

        [ValidateRange(0, 3600)]
        [double] $Interval = 1,

        [ValidateRange(1, [int]::MaxValue)]
        [int] $MaxTurns,

        [ValidateRange(0, [int]::MaxValue)]
        [int] $MaxReconnects = [int]::MaxValue,

        [ValidateNotNullOrEmpty()]
        [string] $StateDirectory = [GeoSync.Engine.Operations.StateDirectory]::Resolve($null),

        [ValidateNotNullOrEmpty()]
        [string] $StatePath,

        [ValidateNotNullOrEmpty()]
        [string] $CheckpointPath,

        [ValidateRange(1, 64)]
        [int] $SyncJobs,

        [ValidateRange(0, 86400)]
        [int] $Timeout,

        [GeoSync.Engine.Session.SlaveMode] $SlaveMode,

        [ValidateNotNullOrEmpty()]
        [string] $SshCommand,

        [ValidateRange(1, 65535)]
        [int] $SshPort,

        [ValidateNotNullOrEmpty()]
        [string] $IdentityFile,

        [ValidateNotNullOrEmpty()]
        [string] $KnownHostsFile,

        [ValidateNotNullOrEmpty()]
        [string[]] $RemoteCommand,

        [ValidateNotNullOrEmpty()]
        [string[]] $SlaveCommand,

        [ValidateNotNullOrEmpty()]
        [string] $NetworkNamespace,

        [ValidateNotNullOrEmpty()]
        [string] $GlusterCommandDirectory,

        [ValidateNotNullOrEmpty()]
        [string] $GlusterLogDirectory,

        [ValidateRange(1, 3600)]
        [int] $ConnectionTimeoutSec,

        [switch] $IgnoreDeletes,

        [ValidateRange(0.0, 1.0)]
        [double] $MaxDeleteShare,

        [GeoSync.Engine.Session.DirectoryPruning] $DirectoryPruning,

        [GeoSync.Engine.Session.MasterWatch] $Watch,

        [switch] $Xattrs,

        [switch] $Force,

        [ValidateNotNullOrEmpty()]
        [string] $HeartbeatPath
    )

    $StateDirectory = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($StateDirectory)
    $replicationPaths = $null
    if ($PSCmdlet.ParameterSetName -eq 'Replication') {
        # A named replication: its pair and options come from its config.json; what this command line gives wins
        # (defaults < stored < command line, docs/operations.md).
        $definition = Get-GeoSyncReplication -Name $Replication -StateDirectory $StateDirectory -ErrorAction SilentlyContinue -ErrorVariable lookupErrors
        if (-not $definition) { $PSCmdlet.ThrowTerminatingError(@($lookupErrors)[0]) }
        $replicationPaths = [GeoSync.Engine.Operations.ReplicationPaths]::new($StateDirectory, $Replication)
        $Master = $definition.Master
        $Slave = $definition.Slave
        foreach ($stored in $definition.Options.GetEnumerator()) {
            # The supervisor's options (hang-timeout, log-keep, ...) are not the loop's.
            if ($PSBoundParameters.ContainsKey($stored.Key) -or [GeoSync.Engine.Operations.ReplicationOptions]::Find($stored.Key).ForSupervisor) { continue }
            Set-Variable -Name $stored.Key -Value $stored.Value
            $PSBoundParameters[$stored.Key] = $stored.Value
        }
        if (-not $PSBoundParameters.ContainsKey('Name')) { $PSBoundParameters['Name'] = $Replication }
    }

    $target = "$Master -> $Slave"
    # The catalog's options that Start-GeoSyncSession takes; the others (Interval, MaxTurns, ...) shape the loop itself.
    # Name and HeartbeatPath are the run's own, not a replication's options.
    $sessionCommandParameters = $ExecutionContext.InvokeCommand.GetCommand('Start-GeoSyncSession', 'Cmdlet').Parameters
    $sessionParameterNames = @([GeoSync.Engine.Operations.ReplicationOptions]::ForWorker.ParameterName) + 'Name', 'HeartbeatPath' |
        Where-Object { $sessionCommandParameters.ContainsKey($_) }
    $sessionParameters = @{ Master = $Master; Slave = $Slave; Confirm = $false; WhatIf = $false; ErrorAction = 'Stop' }
    foreach ($parameterName in $sessionParameterNames) {
        if ($PSBoundParameters.ContainsKey($parameterName)) { $sessionParameters[$parameterName] = $PSBoundParameters[$parameterName] }
    }
    if ($Once -and -not $PSBoundParameters.ContainsKey('MaxReconnects')) { $MaxReconnects = 0 }
    # One turn has no next turn for a watch to serve: its watches would cost a walk of every directory for nothing.
    if ($Once -or $WhatIfPreference) { $sessionParameters['Watch'] = [GeoSync.Engine.Session.MasterWatch]::Disabled }

    # Malformed URLs end the loop before anything is started or written.
    $urls = foreach ($url in $Master, $Slave) {
        $resolved = Resolve-GeoSyncUrl -Url $url -Verbose:$false -ErrorAction SilentlyContinue -ErrorVariable urlErrors
        $parseError = @($urlErrors | Where-Object { $_.FullyQualifiedErrorId -like 'InvalidGeoSyncUrl*' }) | Select-Object -First 1
        if ($parseError) { $PSCmdlet.ThrowTerminatingError($parseError) }
        $resolved
    }
    $masterUrl, $slaveUrl = $urls

    if ($WhatIfPreference) {
        # A dry run, -Once or not: one planned turn. The session starts (a mount, the slave process: nothing of the
        # replicated data), the turn writes nothing, and no state file or lock is made: the pair is not marked as run.
        $session = $null
        try {
            $session = Start-GeoSyncSession @sessionParameters
            Invoke-GeoSyncCrawl -Session $session -WhatIf -ErrorAction Stop
        }
        catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
        finally {
            if ($session) {
                Stop-GeoSyncSession -InputObject $session -Confirm:$false -WhatIf:$false -ErrorAction SilentlyContinue -ErrorVariable stopErrors
                foreach ($record in @($stopErrors)) { Write-Warning "Stopping session $($session.Name): $($record.Exception.Message)" }
            }
        }
        return
    }

    if (-not $PSCmdlet.ShouldProcess($target, 'Replicate the master to the slave (the slave''s copy is made equal to the master)')) {
        return
    }

    # The loop's files: the state record, the failure ledger, and the checkpoint it follows (if any). A named
    # replication keeps them in its own folder (ReplicationPaths); an ad hoc pair in files named after it.
    if ($replicationPaths) {
        $stateFile = $replicationPaths.StateFile
        $ledgerFile = $replicationPaths.FailureLedgerFile
        $checkpointFile = $replicationPaths.CheckpointFile
    }
    else {
        $stateFile = if ($StatePath) { $PSCmdlet.GetUnresolvedProviderPathFromPSPath($StatePath) }
        else { Join-Path $StateDirectory ([GeoSync.Engine.Operations.MasterStateFile]::PairFileName($masterUrl.Normalized, $slaveUrl.Normalized)) }
        $ledgerFile = [GeoSync.Engine.Master.FailureLedger]::PathForStateFile($stateFile)
        $checkpointFile = $null
    }
    if ($CheckpointPath) { $checkpointFile = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($CheckpointPath) }

    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $stateFile) -Force
    # The failure ledger outlives the loop: the next loop retries what this one left.
    $sessionParameters['FailureLedgerPath'] = $ledgerFile
    $lock = Lock-GeoSyncStateFile -Path $stateFile
    if (-not $lock) {
        $owner = try { (Get-Content -LiteralPath $stateFile -Raw | ConvertFrom-Json).ProcessId } catch { 'unknown' }
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new("Another master loop (process $owner) is already replicating $target; its state is in $stateFile. Stop it first, or check it with Get-GeoSyncStatus."),
                'MasterAlreadyRunning', [System.Management.Automation.ErrorCategory]::ResourceBusy, $target))
    }

    # The typed state record: counters carried over from the previous run, LastSynced, the checkpoint (docs/master-loop.md).
    $state = [GeoSync.Engine.Operations.MasterStateFile]::Open($stateFile, $masterUrl.Normalized, $slaveUrl.Normalized, $ledgerFile, $checkpointFile, $null, $null, $null)
    if ($state.PreviousRecordProblem) { Write-Warning "The previous state record is unreadable, so the counters start from zero: $($state.PreviousRecordProblem)" }

    $progressId = 7400
    $activity = "GeoSync master $target"
    # The reconnect waits (1, 2, 4 ... 60 s, back to 1 s after a completed turn) are the engine's one schedule.
    $backoff = [GeoSync.Engine.Operations.BackoffSchedule]::new()
    $failures = 0
    $turnsCompleted = 0
    $firstSync = $true
    $session = $null
    $finalState = 'Stopped'

    # Nothing but these may end the loop at once: a retry cannot fix them.
    $fatalIds = 'InvalidGeoSyncUrl', 'InvalidSessionArgument', 'MasterCorrupt', 'MultipleForeignMasters', 'RsyncNotInstalled',
    'GlusterClientNotInstalled', 'FailureLedgerUnreadable', 'ReplicaOverlap', 'SlaveNotEmpty'

    try {
        $state.Write()
        if ($HeartbeatPath) {
            $HeartbeatPath = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($HeartbeatPath)
            $sessionParameters['HeartbeatPath'] = $HeartbeatPath
            [GeoSync.Engine.Operations.Heartbeat]::Touch($HeartbeatPath)
        }
        while ($true) {
            $lastError = $null
            Write-Progress -Id $progressId -Activity $activity -Status "Connecting (attempt $($failures + 1))"
            try {
                $session = Start-GeoSyncSession @sessionParameters
            }
            catch {
                $id = ($_.FullyQualifiedErrorId -split ',')[0]
                if ($id -in $fatalIds) {
                    $finalState = 'Failed'
                    $state.RecordError($_.Exception.Message, $id)
                    $PSCmdlet.ThrowTerminatingError($_)
                }
                $lastError = $_
            }

            if ($session) {
                Write-Verbose "Session $($session.Name) connected $target (slave process $($session.SlaveProcessId))."
                $state.Connected($session.Name, $session.SlaveProcessId)
                if ($firstSync) {
                    Write-Progress -Id $progressId -Activity $activity -Status 'First full sync: every file the slave lacks is sent'
                }
                else {
                    Write-Progress -Id $progressId -Activity $activity -Completed
                }

                while ($session.State -eq 'Active') {
                    # Ignore, not SilentlyContinue: a record the crawl writes would also land in the caller's -ErrorVariable,
                    # next to the one written below. A turn that fails faults the session, whose LastError says why.
                    # A refusal (SlaveNotEmpty) is the crawl's one terminating error: no retry changes the slave's contents.
                    # The turn's start is what LastSynced becomes if it completes with nothing failed; while it runs, the
                    # state record shows its counts (throttled), so status moves during a long first sync.
                    $state.BeginTurn($session)
                    try {
                        $turn = Invoke-GeoSyncCrawl -Session $session -Confirm:$false -ErrorAction Ignore
                    }
                    catch {
                        $refusal = $_
                        $finalState = 'Failed'
                        $state.RecordError($refusal.Exception.Message, ($refusal.FullyQualifiedErrorId -split ',')[0])
                        $PSCmdlet.ThrowTerminatingError($refusal)
                    }
                    if (-not $turn -or $session.State -ne 'Active') {
                        break
                    }
                    $turnsCompleted++
                    $failures = 0
                    $backoff.Succeeded()
                    if ($HeartbeatPath) { [GeoSync.Engine.Operations.Heartbeat]::Touch($HeartbeatPath) }
                    $busy = $turn.ChangesSeen -or $turn.Failures.Count -gt 0
                    $null = $state.CompleteTurn($session.LastTurn)
                    if ($firstSync) {
                        $firstSync = $false
                        $seconds = [Math]::Max($turn.Duration.TotalSeconds, 0.001)
                        Write-Verbose ("First full sync of $target done: {0} files, {1} bytes in {2:N1} s ({3:N0} files/s, {4:N1} MiB/s)." -f
                            $turn.FilesSynced, $turn.BytesSynced, $seconds, ($turn.FilesSynced / $seconds), ($turn.BytesSynced / $seconds / 1MB))
                        Write-Progress -Id $progressId -Activity $activity -Completed
                    }
                    # The last turn of a bounded run is always written: what it says decides the run's outcome.
                    $lastTurn = $Once -or ($PSBoundParameters.ContainsKey('MaxTurns') -and $turnsCompleted -ge $MaxTurns)
                    if ($busy -or $lastTurn) {
                        $turn
                    }
                    else {
                        Write-Verbose "Turn $($turn.Turn): $target is up to date ($([Math]::Round($turn.Duration.TotalMilliseconds)) ms)."
                    }
                    # After the turn, one EntryNotSynced (or PurgeHeld) error per path that did not arrive, as Invoke-GeoSyncCrawl
                    # writes them; they do not stop the loop: the next turns retry them.
                    foreach ($record in [GeoSync.PowerShell.ReplicationErrors]::ForTurn($turn.Failures, $turn.HeldPurges)) { $PSCmdlet.WriteError($record) }

                    if ($lastTurn) {
                        return
                    }
                    if (-not $turn.ChangesSeen -and $Interval -gt 0) {
                        # The interval, or less when the session's watcher sees the master change (docs/master-loop.md).
                        $null = Wait-GeoSyncChange -Session $session -Timeout $Interval
                    }
                }

                if (-not $lastError -and $session.LastError) { $lastError = $session.LastError }
                $failed = $session
                $session = $null
                Stop-GeoSyncSession -InputObject $failed -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable stopErrors
                foreach ($record in @($stopErrors)) { Write-Warning "Stopping the failed session $($failed.Name): $($record.Exception.Message)" }
            }

            $failures++
            $message = if ($lastError -is [System.Management.Automation.ErrorRecord]) { $lastError.Exception.Message }
            elseif ($lastError -is [System.Exception]) { $lastError.Message }
            elseif ($lastError) { "$lastError" }
            else { 'the session failed without an error' }
            $errorId = if ($lastError -is [System.Management.Automation.ErrorRecord]) { ($lastError.FullyQualifiedErrorId -split ',')[0] }
            else { 'SessionFaulty' }

            if ($failures -gt $MaxReconnects) {
                $finalState = 'Failed'
                $state.RecordError($message, 'MasterReconnectsExhausted')
                $exception = [GeoSync.Engine.GeoSyncException]::new(
                    "Replicating $target failed $failures time(s) in a row, more than -MaxReconnects $MaxReconnects allows; the last error: $message")
                $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                        $exception, 'MasterReconnectsExhausted', [System.Management.Automation.ErrorCategory]::ConnectionError, $target))
            }

            $delay = $backoff.Failed().TotalSeconds
            $state.Fault($message, $errorId, [TimeSpan]::FromSeconds($delay))
            Write-Warning "Replicating $target failed: $message Reconnecting in $delay s (failure $failures in a row)."
            Write-Progress -Id $progressId -Activity $activity -Status "Faulty: reconnecting in $delay s" -CurrentOperation $message
            # Waiting to reconnect is not a hang: the supervisor should leave a worker alone that is retrying.
            if ($HeartbeatPath) { [GeoSync.Engine.Operations.Heartbeat]::Touch($HeartbeatPath) }
            Start-Sleep -Seconds $delay
        }
    }
    finally {
        if ($session) {
            Stop-GeoSyncSession -InputObject $session -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable stopErrors
            foreach ($record in @($stopErrors)) { Write-Warning "Stopping session $($session.Name): $($record.Exception.Message)" }
        }
        $state.End($finalState)
        $state.Dispose()
        $lock.Dispose()
        Write-Progress -Id $progressId -Activity $activity -Completed
    }
}

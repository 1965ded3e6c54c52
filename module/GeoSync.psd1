@{
    RootModule           = 'GeoSync.psm1'
    ModuleVersion        = '{{ModuleVersion}}'
    CompatiblePSEditions = @('Core')
    GUID                 = '5b0f7d0e-3c44-4c1e-9f57-1f2b8e3d6a91'
    Author               = 'GeoSync developers'
    CompanyName          = 'GeoSync'
    Copyright            = '(c) GeoSync developers. MIT License.'
    Description          = 'Asynchronous, incremental geo-replication of GlusterFS volumes and directories (a re-implementation of gsyncd).'
    PowerShellVersion    = '7.4'
    NestedModules        = @('GeoSync.PowerShell.dll')
    FormatsToProcess     = @('GeoSync.Format.ps1xml')
    TypesToProcess       = @('GeoSync.Types.ps1xml')
    FunctionsToExport    = @(
        'Get-GeoSyncFailure'
        'Invoke-GeoSyncMaster'
    )
    CmdletsToExport      = @(
        'Dismount-GlusterAux'
        'Get-GeoSyncReplication'
        'Get-GeoSyncLog'
        'Get-GeoSyncSession'
        'Get-GeoSyncStatus'
        'Get-GlusterVolumeMark'
        'Get-GlusterXtime'
        'Invoke-GeoSyncCrawl'
        'Invoke-GeoSyncRsync'
        'Invoke-GeoSyncSlave'
        'Mount-GlusterAux'
        'New-GeoSyncReplication'
        'Remove-GeoSyncReplication'
        'Resolve-GeoSyncUrl'
        'Set-GeoSyncCheckpoint'
        'Set-GeoSyncReplication'
        'Resume-GeoSyncReplication'
        'Set-GlusterXtime'
        'Start-GeoSyncReplication'
        'Start-GeoSyncSession'
        'Stop-GeoSyncReplication'
        'Stop-GeoSyncSession'
        'Suspend-GeoSyncReplication'
        'Test-GeoSyncReplica'
        'Test-GeoSyncReplication'
        'Wait-GeoSyncChange'
        'Wait-GeoSyncCheckpoint'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('GlusterFS', 'geo-replication', 'rsync', 'Linux')
            # One base for every link (src/GeoSync.PowerShell/HelpLinks.cs says why it is a reserved .invalid name).
            ProjectUri   = 'https://geosync.invalid/'
            LicenseUri   = 'https://geosync.invalid/LICENSE'
            # What changed for users, from docs/release-notes.md (CHANGELOG.md is the developers' record).
            ReleaseNotes = '{{ReleaseNotes}}'
        }
    }
}

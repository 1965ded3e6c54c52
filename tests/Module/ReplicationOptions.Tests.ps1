# The option catalog (GeoSync.Engine.Operations.ReplicationOptions) is the one declaration of the master loop's options.
# The cmdlets declare them as static parameters (for tab completion and complete Get-Help); these tests prove each
# command's parameters are exactly the catalog's: the same names, types, ranges and non-empty checks.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $commands = @(
        @{ Command = 'New-GeoSyncReplication'; Options = 'Stored'; Other = @('Name', 'Master', 'Slave', 'StateDirectory') }
        @{ Command = 'Set-GeoSyncReplication'; Options = 'Stored'; Other = @('Name', 'Reset', 'PassThru', 'StateDirectory') }
        @{ Command = 'Start-GeoSyncSession'; Options = 'Session'; Other = @('Master', 'Slave', 'Name', 'FailureLedgerPath', 'HeartbeatPath') }
        @{ Command = 'Invoke-GeoSyncMaster'; Options = 'ForWorker'; Other = @('Master', 'Slave', 'Replication', 'StateDirectory', 'StatePath', 'CheckpointPath', 'HeartbeatPath') }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe '<Command> takes the catalog''s options' -ForEach $commands {
    BeforeAll {
        $script:Parameters = (Get-Command -Name $Command -Module GeoSync).Parameters
        $script:Catalog = if ($Options -eq 'Session') { @([GeoSync.Engine.Operations.ReplicationSessionOptions]::SessionOptionsOfCatalog) }
        else { @([GeoSync.Engine.Operations.ReplicationOptions]::$Options) }
    }

    It 'has one parameter per option and no other option-like parameter' {
        $declared = $Parameters.Keys | Where-Object { $_ -notin $Common -and $_ -notin $Other } | Sort-Object
        $declared | Should -Be ($Catalog.ParameterName | Sort-Object)
    }

    It 'gives each parameter the option''s type, range and non-empty check' {
        foreach ($option in $Catalog) {
            $parameter = $Parameters[$option.ParameterName]
            $because = "-$($option.ParameterName) must match the catalog's $($option.Key)"
            $expectedType = if ($option.Kind -eq 'Switch') { [switch] } else { $option.ValueType }
            $parameter.ParameterType | Should -Be $expectedType -Because $because

            $range = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] }
            if ($option.Kind -in 'Integer', 'Number') {
                $range | Should -Not -BeNullOrEmpty -Because $because
                [double] $range.MinRange | Should -Be $option.Minimum -Because $because
                [double] $range.MaxRange | Should -Be $option.Maximum -Because $because
            }
            else {
                $range | Should -BeNullOrEmpty -Because $because
            }

            $notEmpty = [bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateNotNullOrEmptyAttribute] })
            $notEmpty | Should -Be ($option.Kind -in 'Text', 'Path', 'Words') -Because $because

            # A choice is its enum type, which gives tab completion and the allowed values by itself.
            $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Should -BeNullOrEmpty -Because $because
        }
    }
}

Describe 'geosync master flags' {
    It 'are the catalog''s keys, each described in geosync master --help' {
        $geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path
        $help = (& $geosync master --help) -join "`n"
        $LASTEXITCODE | Should -Be 0
        foreach ($option in [GeoSync.Engine.Operations.ReplicationOptions]::ForWorker) {
            $help | Should -Match "(?m)^\s+--$([regex]::Escape($option.Key))\b" -Because "--$($option.Key) must be in geosync master --help"
        }
        # The flags the issue found missing from geosync master.
        foreach ($flag in '--slave-command', '--gluster-command-dir', '--gluster-log-dir', '--connection-timeout', '--directory-pruning') {
            $help | Should -Match ([regex]::Escape($flag))
        }
    }
}

Describe 'Test-GeoSyncReplica''s connection parameters' {
    It 'are the catalog''s connection options, with the same types and ranges' {
        $parameters = (Get-Command -Name Test-GeoSyncReplica -Module GeoSync).Parameters
        $urlSet = $parameters.Values | Where-Object { $_.ParameterSets.ContainsKey('Url') -and $_.Name -notin 'Master', 'Slave', 'Checksum', 'Repair' -and
            $_.Name -notin ([System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters) }
        $connection = [GeoSync.Engine.Operations.ReplicationSessionOptions]::ConnectionKeys | ForEach-Object { [GeoSync.Engine.Operations.ReplicationOptions]::Get($_) }
        ($urlSet.Name | Sort-Object) | Should -Be ($connection.ParameterName | Sort-Object)
        foreach ($option in $connection) {
            $expectedType = if ($option.Kind -eq 'Switch') { [switch] } else { $option.ValueType }
            $parameters[$option.ParameterName].ParameterType | Should -Be $expectedType -Because $option.Key
        }
        (& (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path verify --help) -join "`n" | Should -Match 'connection-timeout'
    }
}

Describe 'geosync monitor flags' {
    BeforeAll { $script:Geosync = (Resolve-Path (Join-Path $PSScriptRoot '../../out/geosync/geosync')).Path }

    It 'are the catalog''s supervisor options, each described in geosync monitor --help' {
        $help = (& $Geosync monitor --help) -join "`n"
        $LASTEXITCODE | Should -Be 0
        $supervisor = @([GeoSync.Engine.Operations.ReplicationOptions]::ForSupervisor)
        $supervisor.Key | Should -Be 'hang-timeout', 'stop-timeout', 'log-max-size', 'log-keep'
        foreach ($option in $supervisor) {
            $help | Should -Match "(?m)^\s+--$([regex]::Escape($option.Key))\b"
        }
    }

    It 'are refused by geosync master, which names where they belong' {
        $output = & $Geosync master /tmp/a file:///tmp/b --hang-timeout 30 2>&1
        $LASTEXITCODE | Should -Be 2
        "$output" | Should -Match "--hang-timeout is the supervisor's"
    }

    It 'are refused with their range by geosync monitor' {
        $output = & $Geosync monitor r1 --log-keep 500 2>&1
        $LASTEXITCODE | Should -Be 2
        "$output" | Should -Match 'monitor: --log-keep takes a whole number from 0 to 100'
    }
}

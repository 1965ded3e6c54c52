# ReplicaOverlap and SlaveNotEmpty as PowerShell sees them: the error records (id, category, target), the session left
# usable after a refused turn, the loop ending at once instead of retrying, and -Force. Directory master and slave in
# $TestDrive with real rsync; the CLI forms are in tests/Host/Refusals.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force

    function New-Pair {
        $name = [guid]::NewGuid().ToString('N')
        $pair = [pscustomobject]@{
            Master = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "m-$name")).FullName
            Slave  = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "s-$name")).FullName
            State  = Join-Path $TestDrive "state-$name"
        }
        Set-Content -LiteralPath (Join-Path $pair.Master 'one.txt') -Value 'one' -NoNewline
        $pair
    }

    function Get-TreeListing {
        param([string] $Root)
        Get-ChildItem -LiteralPath $Root -Recurse -Force | ForEach-Object {
            $relative = [IO.Path]::GetRelativePath($Root, $_.FullName)
            if ($_.PSIsContainer) { "$relative/" } else { "$relative $((Get-FileHash -LiteralPath $_.FullName).Hash)" }
        } | Sort-Object -CaseSensitive
    }
}

Describe 'Start-GeoSyncSession refuses overlapping roots' {
    It 'throws ReplicaOverlap (InvalidArgument, target master -> slave) for a slave inside the master, opening nothing' {
        $pair = New-Pair
        $inner = (New-Item -ItemType Directory -Path (Join-Path $pair.Master 'replica')).FullName
        $before = Get-TreeListing -Root $pair.Master

        { Start-GeoSyncSession -Master "file://$($pair.Master)" -Slave "file://$inner/." -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReplicaOverlap,GeoSync.PowerShell.Commands.StartGeoSyncSessionCommand'
        try { Start-GeoSyncSession -Master "file://$($pair.Master)" -Slave "file://$inner/." -ErrorAction Stop }
        catch { $record = $_ }

        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.TargetObject | Should -Be "file://$($pair.Master) -> file://$inner/."
        $record.Exception.Message | Should -Match "the slave lies inside the master: master file://$([regex]::Escape($pair.Master)) \(root $([regex]::Escape($pair.Master))\)"
        @(Get-GeoSyncSession | Where-Object { $_.Master.Normalized -eq "file://$($pair.Master)" }) | Should -BeNullOrEmpty
        Get-TreeListing -Root $pair.Master | Should -Be $before
    }
}

Describe 'the first turn into a slave holding someone else''s entries' {
    It 'Invoke-GeoSyncCrawl stops with the terminating SlaveNotEmpty, the slave as target, and the session stays Active; -Force replicates' {
        $pair = New-Pair
        Set-Content -LiteralPath (Join-Path $pair.Slave 'theirs.txt') -Value 'theirs' -NoNewline
        $before = Get-TreeListing -Root $pair.Slave
        $session = Start-GeoSyncSession -Master "file://$($pair.Master)" -Slave "file://$($pair.Slave)"
        try {
            $refusal = $null
            $turn = try { $session | Invoke-GeoSyncCrawl -Confirm:$false -ErrorAction SilentlyContinue } catch { $refusal = $_ }

            $turn | Should -BeNullOrEmpty
            $refusal | Should -Not -BeNullOrEmpty -Because '-ErrorAction SilentlyContinue does not silence a refusal'
            $refusal.FullyQualifiedErrorId | Should -Be 'SlaveNotEmpty,GeoSync.PowerShell.Commands.InvokeGeoSyncCrawlCommand'
            $refusal.CategoryInfo.Category | Should -Be 'ResourceExists'
            $refusal.Exception.Message | Should -Match "it holds 1 entry; a first sync would delete 1 of them: 1 root entry the master lacks \('theirs\.txt'\)\."
            $session.State | Should -Be 'Active'
            Get-TreeListing -Root $pair.Slave | Should -Be $before
        }
        finally {
            $session | Stop-GeoSyncSession
        }

        $forced = Start-GeoSyncSession -Master "file://$($pair.Master)" -Slave "file://$($pair.Slave)" -Force
        try {
            $result = $forced | Invoke-GeoSyncCrawl -Confirm:$false
            $result.FilesSynced | Should -Be 1
            $result.EntriesPurged | Should -Be 1
        }
        finally {
            $forced | Stop-GeoSyncSession
        }
        Test-Path -LiteralPath (Join-Path $pair.Slave 'theirs.txt') | Should -BeFalse
    }

    It 'ends Invoke-GeoSyncMaster at once with SlaveNotEmpty instead of reconnecting, and -Force lets it replicate' {
        $pair = New-Pair
        Set-Content -LiteralPath (Join-Path $pair.Slave 'theirs.txt') -Value 'theirs' -NoNewline
        $clock = [Diagnostics.Stopwatch]::StartNew()

        { Invoke-GeoSyncMaster -Master "file://$($pair.Master)" -Slave "file://$($pair.Slave)" -Once -MaxReconnects 5 -StateDirectory $pair.State -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'SlaveNotEmpty,Invoke-GeoSyncMaster'

        # A reconnect would have waited 1 s, then 2 s, ... first.
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $status = Get-GeoSyncStatus -StateDirectory $pair.State
        $status.State | Should -Be 'Failed'
        $status.Reconnects | Should -Be 0
        $status.LastError | Should -Match 'is not empty and this master never synced to it'
        Test-Path -LiteralPath (Join-Path $pair.Slave 'theirs.txt') | Should -BeTrue

        $turn = Invoke-GeoSyncMaster -Master "file://$($pair.Master)" -Slave "file://$($pair.Slave)" -Once -Force -StateDirectory $pair.State
        $turn.FilesSynced | Should -Be 1
        Get-Content -LiteralPath (Join-Path $pair.Slave 'one.txt') -Raw | Should -Be 'one'
    }

    It 'ends Invoke-GeoSyncMaster at once with ReplicaOverlap' {
        $pair = New-Pair

        { Invoke-GeoSyncMaster -Master "file://$($pair.Master)" -Slave "file://$($pair.Master)" -Once -MaxReconnects 5 -StateDirectory $pair.State -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'ReplicaOverlap,Invoke-GeoSyncMaster'
        (Get-GeoSyncStatus -StateDirectory $pair.State).Reconnects | Should -Be 0
    }
}

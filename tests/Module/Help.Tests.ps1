BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $commands = Get-Command -Module GeoSync | ForEach-Object { @{ Name = $_.Name } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/GeoSync/GeoSync.psd1') -Force
    $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Help of <Name>' -ForEach $commands {
    BeforeAll {
        $script:Command = Get-Command -Name $Name -Module GeoSync
        $script:Help = Get-Help -Name $Name -Full
        $script:Documented = @($Help.parameters.parameter)
        $script:Declared = @($Command.Parameters.Values | Where-Object Name -NotIn $Common)
    }

    It 'comes from the MAML file (cmdlets) or comment-based help (functions), not generated from the metadata' {
        if ($Command.CommandType -eq 'Function') {
            $Command.ScriptBlock.Ast.GetHelpContent() | Should -Not -BeNullOrEmpty
        }
        else {
            Split-Path -Leaf $Command.HelpFile | Should -Be 'GeoSync.PowerShell.dll-Help.xml'
        }
        $Help.description | Should -Not -BeNullOrEmpty
    }

    It 'has a synopsis' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -BeLike "*$Name *[<CommonParameters>]*"
    }

    It 'has a description' {
        ($Help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code and remarks' {
        $examples = @($Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 1
        foreach ($example in $examples) {
            $example.code | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes every parameter' {
        foreach ($parameter in $Declared) {
            $entry = $Documented | Where-Object name -eq $parameter.Name
            $entry | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) must be documented"
            ($entry.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
        }
    }

    It 'documents no parameter the command lacks' {
        $Documented.name | Sort-Object | Should -Be ($Declared.Name | Sort-Object)
    }

    It "matches the command's parameter metadata" {
        foreach ($parameter in $Declared) {
            $entry = $Documented | Where-Object name -eq $parameter.Name
            $sets = @($parameter.ParameterSets.Values)
            $because = "the help of -$($parameter.Name) must match the cmdlet"

            $entry.type.name | Should -Be ($parameter.ParameterType.Name) -Because $because
            $entry.required | Should -Be ("$(@($sets.IsMandatory) -contains $true)".ToLowerInvariant()) -Because $because
            $position = $sets[0].Position
            # Help made from a function's metadata counts positions from 1, MAML (as platyPS writes it) from 0.
            $shown = if ($Command.CommandType -eq 'Function') { $position + 1 } else { $position }
            $entry.position | Should -Be $(if ($position -lt 0) { 'named' } else { "$shown" }) -Because $because
            $byValue = @($sets.ValueFromPipeline) -contains $true
            $byName = @($sets.ValueFromPipelineByPropertyName) -contains $true
            ($entry.pipelineInput -match 'ByValue') | Should -Be $byValue -Because $because
            ($entry.pipelineInput -match 'ByPropertyName') | Should -Be $byName -Because $because
            $wildcards = [bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            $entry.globbing | Should -Be "$wildcards".ToLowerInvariant() -Because $because
            $aliases = @($entry.aliases -split ',\s*' | Where-Object { $_ -and $_ -ne 'none' })
            $declaredAliases = @($parameter.Aliases)
            # Comment-based help shows no aliases, not even -WhatIf's and -Confirm's, so a function declares none of its own.
            if ($Command.CommandType -eq 'Function') { $declaredAliases = @($declaredAliases | Where-Object { $_ -notin 'wi', 'cf' }) }
            ($aliases | Sort-Object) | Should -Be ($declaredAliases | Sort-Object) -Because $because
        }
    }

    It 'shows one syntax per parameter set' {
        @($Help.syntax.syntaxItem).Count | Should -Be @($Command.ParameterSets).Count
    }
}

Describe 'about_GeoSync' {
    BeforeAll {
        # Get-Help finds about topics in the culture folders of modules on PSModulePath.
        $script:SavedModulePath = $env:PSModulePath
        $env:PSModulePath = (Resolve-Path (Join-Path $PSScriptRoot '../../out')).Path + [IO.Path]::PathSeparator + $env:PSModulePath
    }

    AfterAll {
        $env:PSModulePath = $SavedModulePath
    }

    It 'is found by Get-Help and names every exported command' {
        $text = Get-Help -Name about_GeoSync | Out-String
        $text | Should -Match 'LONG DESCRIPTION'
        foreach ($name in (Get-Command -Module GeoSync).Name) {
            $text | Should -Match ([regex]::Escape($name))
        }
    }
}

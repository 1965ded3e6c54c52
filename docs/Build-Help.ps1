#requires -Version 7.4
<#
.SYNOPSIS
    Builds the module's help: the per-cmdlet markdown in docs/help becomes the MAML file binary cmdlets read, and the
    about topics are copied next to it.
.DESCRIPTION
    The markdown follows platyPS's layout (SYNOPSIS, SYNTAX, DESCRIPTION, EXAMPLES, PARAMETERS with a yaml block per
    parameter, INPUTS, OUTPUTS, NOTES, RELATED LINKS). platyPS is not a build dependency: this script reads that layout
    itself and fails the build on a file that lacks a required part, so incomplete help never ships.
.PARAMETER SourcePath
    The folder of <Command>.md files.
.PARAMETER OutputPath
    The culture folder of the laid-out module (out/GeoSync/en-US); created when missing.
.PARAMETER AboutPath
    The folder holding about_*.help.txt topics to copy.
.PARAMETER HelpFileName
    The MAML file name; PowerShell looks up <cmdlet assembly file name>-Help.xml for binary cmdlets.
.EXAMPLE
    ./docs/Build-Help.ps1 -SourcePath ./docs/help -OutputPath ./out/GeoSync/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $SourcePath,

    [Parameter(Mandatory)]
    [string] $OutputPath,

    [string] $AboutPath = (Join-Path $PSScriptRoot '../module/en-US'),

    [string] $HelpFileName = 'GeoSync.PowerShell.dll-Help.xml'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

# Splits a markdown file into H2 sections, each a list of blocks: headings (h3), fenced code, and paragraphs.
function Read-MarkdownSection {
    param([Parameter(Mandatory)] [string] $Path)

    $lines = (Get-Content -LiteralPath $Path -Raw) -split "`r?`n"
    $index = 0
    if ($lines[0] -eq '---') {
        $index = 1
        while ($index -lt $lines.Count -and $lines[$index] -ne '---') { $index++ }
        $index++
    }

    $title = $null
    $sections = [ordered]@{}
    $blocks = $null
    $paragraph = [System.Collections.Generic.List[string]]::new()
    $flush = {
        if ($paragraph.Count -gt 0 -and $null -ne $blocks) {
            $blocks.Add([pscustomobject]@{ Kind = 'para'; Text = ($paragraph -join ' ') })
        }
        $paragraph.Clear()
    }

    for (; $index -lt $lines.Count; $index++) {
        $line = $lines[$index]
        if ($line -match '^```(\S*)\s*$') {
            & $flush
            $lang = $Matches[1]
            $code = [System.Collections.Generic.List[string]]::new()
            for ($index++; $index -lt $lines.Count -and $lines[$index] -notmatch '^```\s*$'; $index++) { $code.Add($lines[$index]) }
            if ($null -ne $blocks) { $blocks.Add([pscustomobject]@{ Kind = 'code'; Lang = $lang; Text = ($code -join "`n") }) }
        }
        elseif ($line -match '^# (.+)$') { & $flush; $title = $Matches[1].Trim() }
        elseif ($line -match '^## (.+)$') {
            & $flush
            $blocks = [System.Collections.Generic.List[object]]::new()
            $sections[$Matches[1].Trim()] = $blocks
        }
        elseif ($line -match '^### (.+)$') {
            & $flush
            if ($null -ne $blocks) { $blocks.Add([pscustomobject]@{ Kind = 'h3'; Text = $Matches[1].Trim() }) }
        }
        elseif ($line -match '^\s*$') { & $flush }
        elseif ($line -match '^\s*[-*] ') { & $flush; $paragraph.Add($line.Trim()) }
        else { $paragraph.Add($line.Trim()) }
    }
    & $flush
    [pscustomobject]@{ Title = $title; Sections = $sections }
}

function Get-Paragraph {
    param($Blocks)
    @($Blocks | Where-Object Kind -eq 'para' | ForEach-Object Text)
}

# Groups a section's blocks under their h3 headings: @{ Heading; Blocks }.
function Split-ByHeading {
    param($Blocks)
    $groups = [System.Collections.Generic.List[object]]::new()
    $current = $null
    foreach ($block in $Blocks) {
        if ($block.Kind -eq 'h3') {
            $current = [pscustomobject]@{ Heading = $block.Text; Blocks = [System.Collections.Generic.List[object]]::new() }
            $groups.Add($current)
        }
        elseif ($null -ne $current) { $current.Blocks.Add($block) }
    }
    $groups
}

function ConvertFrom-ParameterYaml {
    param([string] $Text)
    $map = @{}
    foreach ($line in $Text -split "`n") {
        if ($line -match '^([^:]+):\s*(.*)$') { $map[$Matches[1].Trim()] = $Matches[2].Trim() }
    }
    $map
}

function ConvertFrom-HelpMarkdown {
    param([Parameter(Mandatory)] [System.IO.FileInfo] $File)

    $doc = Read-MarkdownSection -Path $File.FullName
    $name = $File.BaseName
    $fail = { param($what) throw "$($File.FullName): $what" }
    if ($doc.Title -ne $name) { & $fail "the title must be '# $name'" }
    foreach ($required in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS') {
        if (-not $doc.Sections.Contains($required)) { & $fail "missing section '## $required'" }
    }

    $synopsis = (Get-Paragraph $doc.Sections['SYNOPSIS']) -join ' '
    $description = Get-Paragraph $doc.Sections['DESCRIPTION']
    if (-not $synopsis) { & $fail 'the SYNOPSIS is empty' }
    if (-not $description) { & $fail 'the DESCRIPTION is empty' }

    # SYNTAX: one code block per parameter set (under '### <Set>' headings, or alone for a single set); the -Name tokens
    # of each block give the set's parameters in display order.
    $syntax = [System.Collections.Generic.List[object]]::new()
    $setName = '__AllParameterSets'
    foreach ($block in $doc.Sections['SYNTAX']) {
        if ($block.Kind -eq 'h3') { $setName = ($block.Text -replace '\s*\(Default\)\s*$', '') }
        elseif ($block.Kind -eq 'code') {
            $names = [regex]::Matches($block.Text, '(?<=[\s\[])-(\w+)') | ForEach-Object { $_.Groups[1].Value } | Select-Object -Unique
            $syntax.Add([pscustomobject]@{ Set = $setName; Parameters = @($names) })
        }
    }
    if ($syntax.Count -eq 0) { & $fail 'the SYNTAX has no code block' }

    $examples = foreach ($group in Split-ByHeading $doc.Sections['EXAMPLES']) {
        $codes = @($group.Blocks | Where-Object Kind -eq 'code')
        if ($codes.Count -eq 0) { & $fail "example '$($group.Heading)' has no code" }
        $remarks = foreach ($block in $group.Blocks) {
            if ($block.Kind -eq 'para') { $block.Text }
            elseif ($block.Kind -eq 'code' -and $block -ne $codes[0]) { $block.Text }
        }
        [pscustomobject]@{ Title = $group.Heading; Code = $codes[0].Text; Remarks = @($remarks) }
    }
    if (@($examples).Count -eq 0) { & $fail 'there is no example' }

    $parameters = [ordered]@{}
    foreach ($group in Split-ByHeading $doc.Sections['PARAMETERS']) {
        if ($group.Heading -eq 'CommonParameters') { continue }
        if ($group.Heading -notmatch '^-(\w+)$') { & $fail "parameter heading '$($group.Heading)' must be '### -Name'" }
        $parameterName = $Matches[1]
        $yaml = @($group.Blocks | Where-Object { $_.Kind -eq 'code' -and $_.Lang -eq 'yaml' })
        if ($yaml.Count -ne 1) { & $fail "parameter -$parameterName needs exactly one yaml block" }
        $text = Get-Paragraph $group.Blocks
        if (-not $text) { & $fail "parameter -$parameterName has no description" }
        $meta = ConvertFrom-ParameterYaml $yaml[0].Text
        foreach ($key in 'Type', 'Parameter Sets', 'Required', 'Position', 'Accept pipeline input') {
            if (-not $meta.ContainsKey($key)) { & $fail "parameter -$parameterName lacks '$key' in its yaml" }
        }
        $parameters[$parameterName] = [pscustomobject]@{
            Name           = $parameterName
            Description    = @($text)
            Type           = $meta['Type']
            Sets           = @($meta['Parameter Sets'] -split ',\s*')
            Aliases        = $meta['Aliases']
            Required       = $meta['Required'] -eq 'True'
            Position       = $meta['Position']
            DefaultValue   = $meta['Default value']
            PipelineInput  = $meta['Accept pipeline input']
            Globbing       = $meta['Accept wildcard characters'] -eq 'True'
            AcceptedValues = @(if ($meta['Accepted values']) { $meta['Accepted values'] -split ',\s*' })
        }
    }
    foreach ($item in $syntax) {
        foreach ($parameterName in $item.Parameters) {
            if (-not $parameters.Contains($parameterName)) { & $fail "SYNTAX names -$parameterName, which PARAMETERS does not describe" }
        }
    }

    $typed = {
        param($section)
        foreach ($group in Split-ByHeading $doc.Sections[$section]) {
            [pscustomobject]@{ Type = $group.Heading; Description = Get-Paragraph $group.Blocks }
        }
    }
    $links = foreach ($para in Get-Paragraph $(if ($doc.Sections.Contains('RELATED LINKS')) { $doc.Sections['RELATED LINKS'] })) {
        foreach ($m in [regex]::Matches($para, '\[([^\]]+)\]\(([^)]*)\)')) {
            [pscustomobject]@{ Text = $m.Groups[1].Value; Uri = if ($m.Groups[2].Value -match '^https?://') { $m.Groups[2].Value } else { '' } }
        }
    }

    [pscustomobject]@{
        Name        = $name
        Synopsis    = $synopsis
        Description = @($description)
        Syntax      = $syntax
        Examples    = @($examples)
        Parameters  = $parameters
        Inputs      = @(& $typed 'INPUTS')
        Outputs     = @(& $typed 'OUTPUTS')
        Notes       = @(if ($doc.Sections.Contains('NOTES')) { Get-Paragraph $doc.Sections['NOTES'] })
        Links       = @($links)
    }
}

function Write-Para {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Text, [string] $Element = 'description')
    $Writer.WriteStartElement('maml', $Element, $ns.maml)
    foreach ($para in $Text) { $Writer.WriteElementString('maml', 'para', $ns.maml, $para) }
    $Writer.WriteEndElement()
}

function Write-Parameter {
    param([System.Xml.XmlWriter] $Writer, $Parameter, [bool] $InSyntax)
    $isSwitch = $Parameter.Type -eq 'SwitchParameter'
    $Writer.WriteStartElement('command', 'parameter', $ns.command)
    $Writer.WriteAttributeString('required', "$($Parameter.Required)".ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', "$($Parameter.Type.EndsWith('[]'))".ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', "$($Parameter.Globbing)".ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Parameter.PipelineInput)
    $Writer.WriteAttributeString('position', $(if ($Parameter.Position -eq 'Named') { 'named' } else { $Parameter.Position }))
    $Writer.WriteAttributeString('aliases', $(if ($Parameter.Aliases) { $Parameter.Aliases } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Parameter.Name)
    Write-Para $Writer $Parameter.Description
    if ($Parameter.AcceptedValues.Count -gt 0 -and $InSyntax) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($value in $Parameter.AcceptedValues) {
            $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('variableLength', 'false')
            $Writer.WriteString($value)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    elseif (-not ($isSwitch -and $InSyntax)) {
        $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
        $Writer.WriteAttributeString('required', "$(-not $isSwitch)".ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($Parameter.Type)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $ns.dev)
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Parameter.Type)
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $ns.dev, $(if ($Parameter.DefaultValue) { $Parameter.DefaultValue } else { 'None' }))
    $Writer.WriteEndElement()
}

function Write-TypedList {
    param([System.Xml.XmlWriter] $Writer, [string] $ListElement, [string] $ItemElement, $Items)
    $Writer.WriteStartElement('command', $ListElement, $ns.command)
    foreach ($item in $Items) {
        $Writer.WriteStartElement('command', $ItemElement, $ns.command)
        $Writer.WriteStartElement('dev', 'type', $ns.dev)
        $Writer.WriteElementString('maml', 'name', $ns.maml, $item.Type)
        $Writer.WriteEndElement()
        Write-Para $Writer @($item.Description)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-Command {
    param([System.Xml.XmlWriter] $Writer, $Help)
    $verb, $noun = $Help.Name -split '-', 2
    $Writer.WriteStartElement('command', 'command', $ns.command)
    $Writer.WriteStartElement('command', 'details', $ns.command)
    $Writer.WriteElementString('command', 'name', $ns.command, $Help.Name)
    $Writer.WriteElementString('command', 'verb', $ns.command, $verb)
    $Writer.WriteElementString('command', 'noun', $ns.command, $noun)
    Write-Para $Writer @($Help.Synopsis)
    $Writer.WriteEndElement()
    Write-Para $Writer $Help.Description

    $Writer.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($item in $Help.Syntax) {
        $Writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        $Writer.WriteElementString('maml', 'name', $ns.maml, $Help.Name)
        foreach ($parameterName in $item.Parameters) { Write-Parameter $Writer $Help.Parameters[$parameterName] $true }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($parameter in $Help.Parameters.Values) { Write-Parameter $Writer $parameter $false }
    $Writer.WriteEndElement()

    Write-TypedList $Writer 'inputTypes' 'inputType' $Help.Inputs
    Write-TypedList $Writer 'returnValues' 'returnValue' $Help.Outputs

    if ($Help.Notes.Count -gt 0) {
        $Writer.WriteStartElement('maml', 'alertSet', $ns.maml)
        Write-Para $Writer $Help.Notes 'alert'
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $Help.Examples) {
        $Writer.WriteStartElement('command', 'example', $ns.command)
        $Writer.WriteElementString('maml', 'title', $ns.maml, "--------- $($example.Title) ---------")
        $Writer.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $ns.dev)
        foreach ($para in $example.Remarks) { $Writer.WriteElementString('maml', 'para', $ns.maml, $para) }
        # An empty closing paragraph separates the example from the next title, as Get-Help renders built-in help.
        $Writer.WriteElementString('maml', 'para', $ns.maml, '')
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Help.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $ns.maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()
}

$files = @(Get-ChildItem -LiteralPath $SourcePath -Filter '*-*.md' -File | Sort-Object Name)
if ($files.Count -eq 0) { throw "no <Verb>-<Noun>.md help files in '$SourcePath'" }
$helps = foreach ($file in $files) { ConvertFrom-HelpMarkdown -File $file }

$null = New-Item -ItemType Directory -Path $OutputPath -Force
$target = Join-Path $OutputPath $HelpFileName
$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$writer = [System.Xml.XmlWriter]::Create($target, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', $ns.msh)
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($prefix in 'maml', 'command', 'dev') { $writer.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix]) }
    foreach ($help in $helps) { Write-Command $writer $help }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
}
finally {
    $writer.Dispose()
}
Write-Verbose "Wrote $target ($($helps.Count) commands)"

Get-ChildItem -LiteralPath $AboutPath -Filter 'about_*.help.txt' -File | Copy-Item -Destination $OutputPath

<#PSScriptInfo
.VERSION 1.1.0
.GUID 6f0c2b8e-4f7a-4d55-9a43-0c6f1f6f2a01
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone hostname
.RELEASENOTES 1.1.0: refuses when an active EC2Launch v2 setHostName task would rename the instance back (D8, no 3010 loop).
#>

<#
.SYNOPSIS
Renames a clone (Rename-Computer, then exit 3010 so the SSM agent reboots and runs it again).

.DESCRIPTION
Test-before-Set: when the active computer name already is NewName the payload reports ok and changes nothing. When
the name was set but the instance has not rebooted yet, it asks for the reboot again without renaming. Before the
rename it turns off what would rename the instance back at boot: EC2Launch v1 setComputerName (LaunchConfig.json)
and the EC2Config Ec2SetComputerName plugin (config.xml). An active EC2Launch v2 setHostName task (a '- task:
setHostName' line of agent-config.yml that is not commented out) is refused with the fix, never edited: it would set
the name back at every boot and the command would loop through 3010. A domain member is refused: renaming it needs
domain credentials (hostname runs before domain-join in the workflow).

.PARAMETER NewName
The NetBIOS name: 1-15 letters, digits and hyphens, not all digits, not starting with a hyphen.

.EXAMPLE
.\1.1.0.ps1 -NewName APP02

.NOTES
Exit codes: 0 ok/changed, 1 failed, 3010 reboot-pending. See agent-docs/hostname.md.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateLength(1, 15)]
    [ValidatePattern('^(?![0-9]+$)(?!-)[A-Za-z0-9-]{1,15}$')]
    [string] $NewName
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'hostname' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $key = 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName'
    $active = [string](Get-CloneRegistryValue -Path "$key\ActiveComputerName" -Name 'ComputerName' -Default $env:COMPUTERNAME)
    $pending = [string](Get-CloneRegistryValue -Path "$key\ComputerName" -Name 'ComputerName' -Default $active)
    Set-CloneFact -Run $run -Name 'activeName' -Value $active
    Set-CloneFact -Run $run -Name 'pendingName' -Value $pending
    if ($active -eq $NewName) {
        Write-CloneLog -Run $run -Message "the computer is already named $NewName"
        return
    }

    # What would rename it back at the next boot.
    $e = Get-CloneEc2Launch
    Set-CloneFact -Run $run -Name 'ec2Launch' -Value $e.flavour
    if ($e.flavour -eq 'v1') {
        $cfg = Join-Path $env:ProgramData 'Amazon\EC2-Windows\Launch\Config\LaunchConfig.json'
        if (Test-Path -LiteralPath $cfg) {
            $text = [IO.File]::ReadAllText($cfg)
            if ($text -match '"setComputerName"\s*:\s*true') {
                $new = [regex]::Replace($text, '"setComputerName"\s*:\s*true', '"setComputerName": false')
                [IO.File]::WriteAllText($cfg, $new, (New-Object Text.UTF8Encoding($false)))
                Add-CloneChange -Run $run -Item 'ec2launch-v1/setComputerName' -From $true -To $false
            }
        }
    } elseif ($e.flavour -eq 'EC2Config') {
        $cfg = Join-Path $env:ProgramFiles 'Amazon\Ec2ConfigService\Settings\config.xml'
        if (Test-Path -LiteralPath $cfg) {
            $xml = New-Object Xml.XmlDocument
            $xml.Load($cfg)
            $node = $xml.SelectSingleNode("//Plugin[Name='Ec2SetComputerName']/State")
            if ($null -ne $node -and $node.InnerText -eq 'Enabled') {
                $node.InnerText = 'Disabled'
                $xml.Save($cfg)
                Add-CloneChange -Run $run -Item 'ec2config/Ec2SetComputerName' -From 'Enabled' -To 'Disabled'
            }
        }
    } elseif ($e.flavour -eq 'v2') {
        # An active setHostName task compares the name at every boot and sets it back: after our 3010 reboot the
        # rename would be undone and the command would loop (D8). The YAML is EC2Launch's to own: refuse, with the fix.
        $yml = Join-Path $env:ProgramData 'Amazon\EC2Launch\config\agent-config.yml'
        $fights = @(Get-CloneEc2LaunchV2Tasks) -contains 'setHostName'
        Set-CloneFact -Run $run -Name 'ec2LaunchSetHostName' -Value $fights
        if ($fights) {
            throw ("refused: {0} has an active setHostName task, which sets the host name back at every boot (a reboot loop); remove that task from the file (or comment it out), then run hostname again" -f $yml)
        }
    }

    if ($pending -eq $NewName) {
        Write-CloneLog -Run $run -Message "$NewName is set and waits for a reboot"
        $run.RebootPending = $true
        return
    }
    $cs = Get-CloneCim -ClassName Win32_ComputerSystem
    if ([bool]$cs.PartOfDomain) {
        throw ("this instance is a member of {0}: renaming it needs domain credentials; rename it before domain-join (the workflow runs hostname first) or leave the domain first" -f $cs.Domain)
    }
    Rename-Computer -NewName $NewName -Force -WarningAction SilentlyContinue
    Add-CloneChange -Run $run -Item 'computerName' -From $active -To $NewName
    $run.RebootPending = $true
}
exit (Complete-CloneRun -Run $run)

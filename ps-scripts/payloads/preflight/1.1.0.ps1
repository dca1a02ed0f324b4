<#PSScriptInfo
.VERSION 1.1.0
.GUID a1e7c4d9-3f2b-4e60-8c15-0d9b6f3a2e10
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl preflight readonly
.RELEASENOTES 1.1.0: reports the secret reader (AWS Tools / CLI versions, D7), the rearm count as a fact (D18), the language mode (D17), the data folder state (D1) and the Server 2025 Sysprep-as-SYSTEM note (D3); AppX by family name (D5).
#>

<#
.SYNOPSIS
Read-only report of what would block cloning or Sysprep, with the inventory prep will need (source, work copy).

.DESCRIPTION
Changes nothing and always reports status ok unless a check itself breaks. Facts: the Windows facts (OS, EC2Launch
flavour and version, machine SID, ImageState, domain membership), sysprepBlockers (BitLocker, per-user Appx packages,
pending reboot, servicing, rename or domain join, domain controller or cluster roles, a Spot instance, an EC2Launch
v2 config without an active startSsm task), ready (no blockers), rearmCount (a licensing counter, reported, not a
blocker: Sysprep's own limit of 1001 generalizations is not visible), secretReader (AWS Tools and AWS CLI versions and
what is wrong with them for reading SecureStrings under IMDSv2 / TLS 1.2), notes (Server 2025 Sysprep as SYSTEM, an
EC2Launch v2 setHostName task), local user profiles beyond the built-in ones, enabled local users, the firewall
profiles, and counts plus the first names of non-Microsoft scheduled tasks and of automatic services. The instance's
shutdown behaviour is not visible from the guest: the controller checks it.

.EXAMPLE
.\1.1.0.ps1

.NOTES
Exit codes: 0 ok, 1 failed (a check could not run). The inventory facts are optional and are dropped first when the
envelope would exceed 2,500 characters. See agent-docs/preflight.md.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

function Get-FirstNames {
    # A bounded list: count and the first ten names, so the envelope stays small.
    param([object[]] $Items)
    $names = @($Items | Select-Object -First 10)
    return [ordered]@{ count = @($Items).Count; first = $names }
}

$run = New-CloneRun -Payload 'preflight' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    Set-CloneFact -Run $run -Name 'windows' -Value (Get-CloneWindowsFacts)
    $blockers = Get-CloneSysprepBlockers
    Set-CloneFact -Run $run -Name 'sysprepBlockers' -Value $blockers
    Set-CloneFact -Run $run -Name 'ready' -Value (@($blockers).Count -eq 0)
    Set-CloneFact -Run $run -Name 'rearmCount' -Value (Get-CloneRearmCount)
    # D7: which reader work-user and domain-join will use, and what is wrong with it, known before prep starts.
    $tools = Get-CloneAwsToolsVersion
    if ($null -eq $tools) {
        foreach ($m in @('AWS.Tools.SimpleSystemsManagement', 'AWSPowerShell')) {
            $found = @(Get-Module -ListAvailable -Name $m | Sort-Object -Property Version -Descending)
            if ($found.Count -gt 0) { $tools = $found[0].Version; break }
        }
    }
    $cli = $null; if ($null -eq $tools) { $cli = Get-CloneAwsCliVersion }
    $problem = $null
    if ($null -eq $tools -and $null -eq $cli) { $problem = 'neither AWS Tools for PowerShell nor the AWS CLI is installed: work-user and domain-join cannot read their SecureString; install AWS.Tools.SimpleSystemsManagement or the AWS CLI v2' }
    elseif ($null -ne $tools -and $tools -lt [version]'4.0.0') { $problem = ('AWS Tools {0} predates IMDSv2 credentials and may offer only TLS 1.0: install AWS.Tools.SimpleSystemsManagement 4.x or newer' -f $tools) }
    elseif ($null -eq $tools -and $cli -lt [version]'1.16.287') { $problem = ('AWS CLI {0} predates IMDSv2 credentials: install the AWS CLI v2' -f $cli) }
    $reader = [ordered]@{ awsTools = $null; awsCli = $null; problem = $problem }
    if ($null -ne $tools) { $reader.awsTools = [string]$tools }
    if ($null -ne $cli) { $reader.awsCli = [string]$cli }
    Set-CloneFact -Run $run -Name 'secretReader' -Value $reader
    $notes = New-Object System.Collections.ArrayList
    $os = Get-CloneCim -ClassName Win32_OperatingSystem
    if ([int]$os.BuildNumber -ge 26100 -and (Test-Path -LiteralPath (Join-Path $env:WINDIR 'explorer.exe'))) {
        $null = $notes.Add('Server 2025 Desktop Experience: Sysprep run as SYSTEM may leave users a black screen; see agent-docs/sysprep.md')
    }
    if (@(Get-CloneEc2LaunchV2Tasks) -contains 'setHostName') { $null = $notes.Add('EC2Launch v2 setHostName task is active: hostname will refuse until it is removed') }
    Set-CloneFact -Run $run -Name 'notes' -Value $notes.ToArray()
    Set-CloneFact -Run $run -Name 'firewall' -Value (Get-CloneFirewallState)

    $profiles = @(Get-CloneCim -ClassName Win32_UserProfile | Where-Object { -not $_.Special } | ForEach-Object { Split-Path -Leaf ([string]$_.LocalPath) })
    Set-CloneFact -Run $run -Name 'userProfiles' -Value (Get-FirstNames -Items $profiles) -Optional
    $users = @(Get-CloneCim -ClassName Win32_UserAccount -Filter 'LocalAccount=True AND Disabled=False' | ForEach-Object { [string]$_.Name })
    Set-CloneFact -Run $run -Name 'enabledLocalUsers' -Value (Get-FirstNames -Items $users) -Optional
    $tasks = @(Get-ScheduledTask | Where-Object { $_.TaskPath -notlike '\Microsoft\*' } | ForEach-Object { $_.TaskPath + $_.TaskName })
    Set-CloneFact -Run $run -Name 'scheduledTasks' -Value (Get-FirstNames -Items $tasks) -Optional
    $services = @(Get-CloneCim -ClassName Win32_Service -Filter "StartMode='Auto'" | Where-Object { [string]$_.PathName -notlike '*\Windows\*' } | ForEach-Object { [string]$_.Name })
    Set-CloneFact -Run $run -Name 'automaticServices' -Value (Get-FirstNames -Items $services) -Optional
    Write-CloneLog -Run $run -Message ("{0} blocker(s); {1} profile(s), {2} task(s), {3} service(s) outside Windows" -f @($blockers).Count, $profiles.Count, $tasks.Count, $services.Count)
}
exit (Complete-CloneRun -Run $run)

<#PSScriptInfo
.VERSION 1.0.0
.GUID a1e7c4d9-3f2b-4e60-8c15-0d9b6f3a2e10
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl preflight readonly
.RELEASENOTES First release.
#>

<#
.SYNOPSIS
Read-only report of what would block cloning or Sysprep, with the inventory prep will need (source, work copy).

.DESCRIPTION
Changes nothing and always reports status ok unless a check itself breaks. Facts: the Windows facts (OS, EC2Launch
flavour and version, machine SID, ImageState, domain membership), sysprepBlockers (BitLocker, per-user Appx packages,
pending reboot or servicing, the rearm count, domain controller or cluster roles, a Spot instance, an EC2Launch v2
config without startSsm), ready (no blockers), local user profiles beyond the built-in ones, enabled local users,
the firewall profiles, and counts plus the first names of non-Microsoft scheduled tasks and of automatic services.
The instance's shutdown behaviour is not visible from the guest: the controller checks it.

.EXAMPLE
.\1.0.0.ps1

.NOTES
Exit codes: 0 ok, 1 failed (a check could not run). The inventory facts are optional and are dropped first when the
envelope would exceed 2,500 characters. See agent-docs/preflight.md.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.0.0\CloneAgent.psm1')
}

function Get-FirstNames {
    # A bounded list: count and the first ten names, so the envelope stays small.
    param([object[]] $Items)
    $names = @($Items | Select-Object -First 10)
    return [ordered]@{ count = @($Items).Count; first = $names }
}

$run = New-CloneRun -Payload 'preflight' -Version '1.0.0'
Invoke-CloneBody -Run $run -Body {
    Set-CloneFact -Run $run -Name 'windows' -Value (Get-CloneWindowsFacts)
    $blockers = Get-CloneSysprepBlockers
    Set-CloneFact -Run $run -Name 'sysprepBlockers' -Value $blockers
    Set-CloneFact -Run $run -Name 'ready' -Value (@($blockers).Count -eq 0)
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

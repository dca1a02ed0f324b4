<#PSScriptInfo
.VERSION 1.1.0
.GUID 9a4e1f37-2c6b-4e8d-8f15-7b3c6d0e4a03
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl prep firewall
.RELEASENOTES 1.1.0: runs with CloneAgent 1.1.0 (data folder checked before the journal is trusted, D1).
#>

<#
.SYNOPSIS
Records each firewall profile's state in the journal, then turns the named profiles off (source prep).

.DESCRIPTION
The journal entry 'firewall' keeps the state of all three profiles as found the first time (record-if-absent), so a
second run neither overwrites it nor changes anything. Only the profile switch is touched, never rules: nothing this
payload does can block the metadata service (169.254.169.254) or KMS (169.254.169.250/251). When a Group Policy keeps
a profile on, the local switch cannot win: the payload fails and names the profile.

.PARAMETER Profiles
The profiles to turn off: any of Domain, Private, Public (default all three).

.EXAMPLE
.\1.1.0.ps1 -Profiles Domain,Private,Public

.NOTES
Exit codes: 0 ok/changed, 1 failed. See agent-docs/firewall-off.md.
#>
[CmdletBinding()]
param(
    [ValidateSet('Domain', 'Private', 'Public')]
    [ValidateCount(1, 3)]
    [string[]] $Profiles = @('Domain', 'Private', 'Public')
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'firewall-off' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    # Record all three even when fewer are turned off: restore then knows the whole picture.
    $before = Get-CloneFirewallState
    $null = Add-CloneJournalEntry -Run $run -Name 'firewall' -Before $before
    $target = [ordered]@{}
    foreach ($p in ($Profiles | Select-Object -Unique)) { $target[$p] = $false }
    Set-CloneFirewallState -Run $run -Target $target
    $effective = [ordered]@{}
    foreach ($p in $target.Keys) {
        $effective[$p] = Get-CloneEffectiveFirewall -ProfileName $p
        if ($effective[$p]) { Add-CloneError -Run $run -Message "the $p firewall profile is still on: a Group Policy enforces it; change the GPO or leave this profile out" }
    }
    Set-CloneFact -Run $run -Name 'before' -Value $before
    Set-CloneFact -Run $run -Name 'effective' -Value $effective
}
exit (Complete-CloneRun -Run $run)

<#PSScriptInfo
.VERSION 1.1.0
.GUID c57d2a19-6e3f-4b0a-9d28-1e4f8b6c5a04
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone firewall
.RELEASENOTES 1.1.0: runs with CloneAgent 1.1.0 (data folder checked before the journal is trusted, D1).
#>

<#
.SYNOPSIS
Puts each firewall profile back to the state the journal recorded on the source (clone).

.DESCRIPTION
Reads the journal entry 'firewall' written by firewall-off on the source (it travels inside the AMI) and sets each
profile that differs; profiles already as recorded are left alone, so a second run reports ok. A missing journal or
entry is a failure that says to run firewall-off on the source before imaging; the payload never guesses. It reports
the default outbound action per profile: a profile that blocks outbound traffic needs allow rules for 169.254.169.254
(metadata) and 169.254.169.250/251 (KMS), which this payload never adds or removes.

.EXAMPLE
.\1.1.0.ps1

.NOTES
Exit codes: 0 ok/changed, 1 failed. See agent-docs/firewall-restore.md.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'firewall-restore' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $entry = Get-CloneJournalEntry -Name 'firewall' -Producer 'firewall-off'
    Set-CloneFirewallState -Run $run -Target $entry['before']
    Set-CloneJournalRestored -Run $run -Name 'firewall'
    $outbound = [ordered]@{}
    foreach ($p in $entry['before'].Keys) { $outbound[$p] = [string](Get-NetFirewallProfile -Name $p -PolicyStore ActiveStore).DefaultOutboundAction }
    Set-CloneFact -Run $run -Name 'profiles' -Value (Get-CloneFirewallState -Profiles @($entry['before'].Keys))
    Set-CloneFact -Run $run -Name 'defaultOutboundAction' -Value $outbound -Optional
}
exit (Complete-CloneRun -Run $run)

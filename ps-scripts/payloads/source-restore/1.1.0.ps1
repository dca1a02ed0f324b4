<#PSScriptInfo
.VERSION 1.1.0
.GUID 4f9d1b72-0e6a-4c83-a5b7-8d2c4e9f1a09
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl source restore
.RELEASENOTES 1.1.0: restores every item it can and reports each failure (D4); data folder checked (D1).
#>

<#
.SYNOPSIS
Puts the production source back as the journal says once its AMI exists: firewall, jobs, work user.

.DESCRIPTION
Production keeps running after imaging, so prep must be undone there. For each journal entry that prep wrote
(firewall, jobs, workUser) and that is not yet marked restored, it restores what was recorded, then marks the entry
restored (restoredBy, restoredAt): the source's journal then shows that this round is over, and the next round of
prep records afresh. A work user that prep created is removed on the source (on clones it is only disabled). Entries
that are absent are skipped (that prep step did not run); failures in one part do not stop the others, and inside
jobs every task and service is attempted and each failure reported. Test-before-Set:
a second run finds everything as recorded and reports ok.

.EXAMPLE
.\1.1.0.ps1

.NOTES
Exit codes: 0 ok/changed, 1 failed. Run it only after the production AMI is available. See agent-docs/source-restore.md.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'source-restore' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $entries = (Get-CloneJournal)['entries']
    $done = New-Object System.Collections.ArrayList
    $parts = [ordered]@{
        firewall = { param($b) Set-CloneFirewallState -Run $run -Target $b }
        jobs     = { param($b) Restore-CloneJobs -Run $run -Before $b }
        workUser = { param($b) Restore-CloneWorkUser -Run $run -Before $b -RemoveCreated }
    }
    foreach ($name in $parts.Keys) {
        if (-not $entries.Contains($name)) { Write-CloneLog -Run $run -Message "journal has no $name entry: skipped"; continue }
        if ($entries[$name].Contains('restoredAt')) { Write-CloneLog -Run $run -Message "$name already restored at $($entries[$name]['restoredAt'])"; continue }
        $errorsBefore = $run.Errors.Count
        try {
            & $parts[$name] $entries[$name]['before']
        } catch {
            Add-CloneError -Run $run -Message ("{0}: {1}" -f $name, $_.Exception.Message)
        }
        if ($run.Errors.Count -eq $errorsBefore) { Set-CloneJournalRestored -Run $run -Name $name; $null = $done.Add($name) }
    }
    Set-CloneFact -Run $run -Name 'restored' -Value $done.ToArray()
}
exit (Complete-CloneRun -Run $run)

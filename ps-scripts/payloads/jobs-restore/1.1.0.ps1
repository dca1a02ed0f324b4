<#PSScriptInfo
.VERSION 1.1.0
.GUID 8e3b0f26-7c5d-4a19-92f4-3b7e1d6a0c08
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl clone jobs
.RELEASENOTES 1.1.0: restores every task and service it can, goes on past one that fails and reports each (D4).
#>

<#
.SYNOPSIS
Re-enables exactly the scheduled tasks and services that jobs-stop recorded on the source, as they were (clone).

.DESCRIPTION
Reads the journal entry 'jobs'. Tasks that were not Disabled are enabled again (not started: they run on their own
triggers); services get their recorded start type back (including Automatic (Delayed Start), through sc.exe) and are
started if they were running (start types first, all services started last; a service recorded Disabled is never
started). Nothing outside the journal is touched: restore what was recorded, not "enable everything". Every item is
attempted: a recorded item missing here, or a service that will not start (a domain logon account before the join),
is one error naming it and the others are still restored; the entry stays open, so a re-run after the fix finishes
it. The workflow runs domain-join first when a clone joins a domain. A missing entry is a failure that says to run
jobs-stop on the source before imaging.

.EXAMPLE
.\1.1.0.ps1

.NOTES
Exit codes: 0 ok/changed, 1 failed. See agent-docs/jobs-restore.md.
#>
[CmdletBinding()]
param()
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'jobs-restore' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    $entry = Get-CloneJournalEntry -Name 'jobs' -Producer 'jobs-stop'
    Restore-CloneJobs -Run $run -Before $entry['before']
    if ($run.Errors.Count -eq 0) { Set-CloneJournalRestored -Run $run -Name 'jobs' }
    Set-CloneFact -Run $run -Name 'tasks' -Value (@($entry['before']['tasks'] | Where-Object { $null -ne $_ }).Count)
    Set-CloneFact -Run $run -Name 'services' -Value (@($entry['before']['services'] | Where-Object { $null -ne $_ }).Count)
}
exit (Complete-CloneRun -Run $run)

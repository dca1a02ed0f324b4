<#PSScriptInfo
.VERSION 1.1.0
.GUID 2c6a8e15-9d4b-4f70-b1e3-6a8d0c5f9e07
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl prep jobs
.RELEASENOTES 1.1.0: refuses protected services and services whose stop would cascade to one (D12); data folder checked (D1).
#>

<#
.SYNOPSIS
Records, then disables and stops, the named scheduled tasks and services so nothing runs while copying (source prep).

.DESCRIPTION
Each task pattern ('\App\Nightly', '\App\*', 'Nightly' for the root folder) and each service must match something:
a pattern that matches nothing is a failure naming it. The journal entry 'jobs' records per task its path, name and
state and per service its name, start type (Automatic, AutomaticDelayedStart, Manual, Disabled) and status. Items are
recorded once (the first recording is the truth); items named in a later run are added. Then tasks are stopped
and disabled (Disable-ScheduledTask) and services stopped (Stop-Service -Force) and set to Disabled. A service with
running dependents that are not named too is refused (they would stop unrecorded). Test-before-Set: a second run
finds everything disabled and stopped and reports ok. Boot and system drivers are refused. Protected services are
refused before anything changes: AmazonSSMAgent, EC2Launch, Ec2Config, Winmgmt, RpcSs, RpcEptMapper, DcomLaunch,
LanmanWorkstation, Netlogon, Dnscache, mpssvc, EventLog, Schedule, and any service one of them depends on (stopping
it would stop the protected one too): stopping them would kill this command or the agent's way back.

.PARAMETER Tasks
Scheduled task paths with names; wildcards allowed in the name: '\App\*'.

.PARAMETER Services
Service names (not display names).

.EXAMPLE
.\1.1.0.ps1 -Tasks '\App\*','\Backup\Nightly' -Services AppSvc,W3SVC

.NOTES
Exit codes: 0 ok/changed, 1 failed. See agent-docs/jobs-stop.md.
#>
[CmdletBinding()]
param(
    [ValidateCount(0, 200)]
    [ValidatePattern('^[^<>|"]{1,260}$')]
    [string[]] $Tasks = @(),

    [ValidateCount(0, 200)]
    [ValidatePattern('^[A-Za-z0-9_.$@ -]{1,256}$')]
    [string[]] $Services = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'jobs-stop' -Version '1.1.0'
Invoke-CloneBody -Run $run -Body {
    if ($Tasks.Count -eq 0 -and $Services.Count -eq 0) { throw 'name at least one task (Tasks) or service (Services)' }
    $foundTasks = New-Object System.Collections.ArrayList
    foreach ($pattern in $Tasks) {
        $parts = Split-CloneTaskPattern -Pattern $pattern
        $matched = @(Get-ScheduledTask -TaskPath $parts.Path -TaskName $parts.Name -ErrorAction SilentlyContinue)
        if ($matched.Count -eq 0) { throw ("no scheduled task matches '{0}' (folder {1}, name {2})" -f $pattern, $parts.Path, $parts.Name) }
        foreach ($t in $matched) { $null = $foundTasks.Add($t) }
    }
    $foundServices = New-Object System.Collections.ArrayList
    foreach ($name in $Services) {
        $s = Get-CloneServiceState -Name $name
        if ($null -eq $s) { throw ("no service is named '{0}' (use the service name, not the display name)" -f $name) }
        if (@('Boot', 'System') -contains $s.startType) { throw ("'{0}' is a {1}-start driver: clonectl does not stop drivers" -f $name, $s.startType) }
        $protected = Get-CloneProtectedServiceProblem -Name $s.name
        if ($null -ne $protected) { throw ('refused: ' + $protected) }
        $null = $foundServices.Add($s)
    }
    # Stop-Service -Force also stops running dependents; unrecorded, they would never be restarted on restore.
    foreach ($s in $foundServices) {
        $deps = @((Get-Service -Name $s.name).DependentServices | Where-Object { [string]$_.Status -ne 'Stopped' -and $Services -notcontains $_.Name } | ForEach-Object { $_.Name })
        if ($deps.Count -gt 0) { throw ("service '{0}' has running dependent services not named in Services: {1}; name them too" -f $s.name, ($deps -join ', ')) }
    }

    # Record: keep items already in the journal, add new ones. Done before any change, so a failure later still
    # leaves the truth recorded.
    $journal = Get-CloneJournal
    $entry = $null
    if ($journal['entries'].Contains('jobs') -and -not $journal['entries']['jobs'].Contains('restoredAt')) { $entry = $journal['entries']['jobs'] }
    if ($null -eq $entry) {
        $entry = [ordered]@{ recordedBy = ('{0}@{1}' -f $run.Payload, $run.Version); recordedAt = (Get-CloneUtcStamp); before = [ordered]@{ tasks = @(); services = @() } }
    }
    $recTasks = New-Object System.Collections.ArrayList; foreach ($x in @($entry['before']['tasks'])) { if ($null -ne $x) { $null = $recTasks.Add($x) } }
    $recServices = New-Object System.Collections.ArrayList; foreach ($x in @($entry['before']['services'])) { if ($null -ne $x) { $null = $recServices.Add($x) } }
    $added = 0
    foreach ($t in $foundTasks) {
        $known = @($recTasks | Where-Object { $_['path'] -eq $t.TaskPath -and $_['name'] -eq $t.TaskName })
        if ($known.Count -eq 0) { $null = $recTasks.Add([ordered]@{ path = $t.TaskPath; name = $t.TaskName; state = [string]$t.State }); $added++ }
    }
    foreach ($s in $foundServices) {
        $known = @($recServices | Where-Object { $_['name'] -eq $s.name })
        if ($known.Count -eq 0) { $null = $recServices.Add($s); $added++ }
    }
    if ($added -gt 0) {
        $entry['before'] = [ordered]@{ tasks = $recTasks.ToArray(); services = $recServices.ToArray() }
        $journal['entries']['jobs'] = $entry
        Save-CloneJournal -Journal $journal
        Write-CloneLog -Run $run -Message "journal: recorded $added job(s)"
    }

    foreach ($t in $foundTasks) {
        $id = 'task/' + $t.TaskPath + $t.TaskName
        $state = [string]$t.State
        if ($state -eq 'Running') { $null = Stop-ScheduledTask -TaskPath $t.TaskPath -TaskName $t.TaskName }
        if ($state -ne 'Disabled') {
            $null = Disable-ScheduledTask -TaskPath $t.TaskPath -TaskName $t.TaskName
            Add-CloneChange -Run $run -Item $id -From $state -To 'Disabled'
        }
    }
    foreach ($s in $foundServices) {
        if ($s.status -ne 'Stopped') {
            Stop-Service -Name $s.name -Force
            Add-CloneChange -Run $run -Item ('service/' + $s.name + '/status') -From $s.status -To 'Stopped'
        }
        if ($s.startType -ne 'Disabled') {
            Set-CloneServiceStartType -Name $s.name -StartType 'Disabled'
            Add-CloneChange -Run $run -Item ('service/' + $s.name + '/startType') -From $s.startType -To 'Disabled'
        }
    }
    Set-CloneFact -Run $run -Name 'tasks' -Value $foundTasks.Count
    Set-CloneFact -Run $run -Name 'services' -Value $foundServices.Count
}
exit (Complete-CloneRun -Run $run)

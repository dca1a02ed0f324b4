<#PSScriptInfo
.VERSION 1.0.0
.GUID 5b8f2e41-6d3c-4a97-b0e8-1f7a3c9d5e11
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl sysprep workcopy
.RELEASENOTES First release.
#>

<#
.SYNOPSIS
Generalizes the work copy through its EC2Launch flavour; writes the result first, then starts Sysprep detached.

.DESCRIPTION
Sysprep's shutdown kills the running command, so the envelope is written BEFORE Sysprep starts: status 'changed'
means "Sysprep was started"; the controller then treats "instance reached stopped" as completion. Refuses, with one
error per reason, when a blocker is present (see preflight). Method by flavour: EC2Launch v2 runs
'EC2Launch.exe sysprep --shutdown'; EC2Launch v1 first runs 'InitializeInstance.ps1 -Schedule' (here, before the
envelope: without it the image keeps static routes to the metadata service and clones in another subnet never reach
SSM), then 'SysprepInstance.ps1'; EC2Config runs 'Ec2Config.exe -sysprep'. The detached starter waits 20 seconds so
the SSM agent can send this result first. The journal entry 'sysprep' records the computer name, machine SID and
ImageState before Sysprep (verify compares the clone's SID with it). Test-before-Set: when Sysprep is already running,
or has generalized the instance and awaits shutdown, the payload reports ok and starts nothing.

.PARAMETER Shutdown
Shut down when Sysprep ends (default true). False keeps the instance running (EC2Launch v2 and v1 only).

.EXAMPLE
.\1.0.0.ps1

.NOTES
Exit codes: 0 ok (already running) / changed (started), 1 failed (blocked; nothing started). See agent-docs/sysprep.md.
#>
[CmdletBinding()]
param(
    [ValidateNotNull()]
    [bool] $Shutdown = $true
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if (-not (Get-Command -Name New-CloneRun -ErrorAction SilentlyContinue)) {
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.0.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'sysprep' -Version '1.0.0'
$starter = Join-Path $env:ProgramData 'clonectl\sysprep-start.ps1'
$flags = @{ Start = $false }
Invoke-CloneBody -Run $run -Body {
    $e = Get-CloneEc2Launch
    $imageState = Get-CloneImageState
    Set-CloneFact -Run $run -Name 'ec2Launch' -Value ([ordered]@{ flavour = $e.flavour; version = $e.version })
    Set-CloneFact -Run $run -Name 'imageState' -Value $imageState

    $running = @(Get-Process -Name 'sysprep' -ErrorAction SilentlyContinue).Count -gt 0
    $starting = @(Get-CloneCim -ClassName Win32_Process -Filter "Name='powershell.exe'" | Where-Object { [string]$_.CommandLine -like '*clonectl\sysprep-start.ps1*' }).Count -gt 0
    if ($running -or $starting -or $imageState -like 'IMAGE_STATE_GENERALIZE_RESEAL*') {
        Set-CloneFact -Run $run -Name 'sysprep' -Value 'already running or awaiting shutdown'
        Write-CloneLog -Run $run -Message "sysprep already under way (process $running, starter $starting, $imageState): nothing started"
        return
    }

    foreach ($b in @(Get-CloneSysprepBlockers)) { Add-CloneError -Run $run -Message ('blocker {0}: {1}' -f $b['id'], $b['reason']) }
    if ($run.Errors.Count -gt 0) { return }
    if ($e.flavour -eq 'EC2Config' -and -not $Shutdown) { throw 'EC2Config always shuts down after Sysprep: Shutdown false needs EC2Launch v1 or v2' }

    $users = @(Get-CloneCim -ClassName Win32_UserAccount -Filter 'LocalAccount=True AND Disabled=False')
    Set-CloneFact -Run $run -Name 'enabledLocalUsers' -Value $users.Count
    if ($users.Count -gt 1) { Write-CloneLog -Run $run -Message ("note: {0} enabled local users; AWS advises one administrator before Sysprep" -f $users.Count) }

    $null = Add-CloneJournalEntry -Run $run -Name 'sysprep' -Before ([ordered]@{
            computerName = $env:COMPUTERNAME; machineSid = (Get-CloneMachineSid); imageState = $imageState; ec2Launch = $e.flavour
        })

    $q = "'" + ($e.path -replace "'", "''") + "'"
    if ($e.flavour -eq 'v2') {
        $line = '& ' + $q + ' sysprep'; if ($Shutdown) { $line += ' --shutdown' }
    } elseif ($e.flavour -eq 'v1') {
        # Schedule initialisation for the clones' first boot now, while we can still report a failure.
        # In a child process: the EC2Launch scripts may write to the host, and only the envelope may reach stdout.
        $ps = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
        $r = Invoke-CloneNative -FilePath $ps -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', $e.path, '-Schedule')
        if ($r.ExitCode -ne 0) { throw ("InitializeInstance.ps1 -Schedule failed (exit {0}): {1}" -f $r.ExitCode, $r.Error) }
        Write-CloneLog -Run $run -Message 'EC2Launch v1: InitializeInstance.ps1 -Schedule done'
        $sys = "'" + ((Join-Path (Split-Path -Parent $e.path) 'SysprepInstance.ps1') -replace "'", "''") + "'"
        $line = '& ' + $sys; if (-not $Shutdown) { $line += ' -NoShutdown' }
    } else {
        $line = '& ' + $q + ' -sysprep'
    }
    $log = Join-Path $env:ProgramData 'clonectl\logs\sysprep-start.log'
    $text = @(
        '# Written by clonectl sysprep@1.0.0: starts Sysprep after the result has been sent.'
        'Start-Sleep -Seconds 20'
        ('Add-Content -LiteralPath ''{0}'' -Value ((Get-Date).ToUniversalTime().ToString(''s'') + '' starting: {1}'')' -f $log, ($line -replace "'", "''"))
        ($line + (' *>> ''{0}''' -f $log))
    ) -join "`r`n"
    [IO.File]::WriteAllText($starter, $text + "`r`n", [Text.Encoding]::ASCII)
    Set-CloneFact -Run $run -Name 'method' -Value $line
    Add-CloneChange -Run $run -Item 'sysprep' -From 'not started' -To ('starting in 20 s via ' + $e.flavour)
    $flags.Start = $true
}
$code = Complete-CloneRun -Run $run
if ($flags.Start -and $code -eq 0) {
    # After the envelope: a failure here can only show in stderr and the exit code.
    try {
        $ps = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
        $null = Start-Process -FilePath $ps -WindowStyle Hidden -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', ('"{0}"' -f $starter))
    } catch {
        [Console]::Error.WriteLine('clonectl sysprep: could not start Sysprep after reporting: ' + $_.Exception.Message)
        exit 1
    }
}
exit $code

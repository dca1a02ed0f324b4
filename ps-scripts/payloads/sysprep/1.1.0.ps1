<#PSScriptInfo
.VERSION 1.1.0
.GUID 5b8f2e41-6d3c-4a97-b0e8-1f7a3c9d5e11
.AUTHOR clonectl
.COMPANYNAME clonectl
.TAGS clonectl sysprep workcopy
.RELEASENOTES 1.1.0: waits for EC2Launch v2 and servicing to be quiet (D11), records a new generation (D6), starts Sysprep through Win32_Process.Create with one log encoding (D15), AppX by family name (D5), Server 2025 note (D3).
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
SSM), then 'SysprepInstance.ps1'; EC2Config runs 'Ec2Config.exe -sysprep'. EC2Launch v2's own sysprep command is
preferred wherever v2 is installed. Before anything starts it waits, up to 600 seconds, until EC2Launch v2 has
finished its stages ('EC2Launch.exe status' is not 2) and Windows servicing is idle (no TiWorker.exe); still busy at
the limit is a failure that says which. The detached starter is created through Win32_Process.Create (no handle
shared with the SSM agent) and waits 20 seconds so the agent can send this result first; it logs in ASCII to
logs\sysprep-start.log. The journal entry 'sysprep' records the computer name, machine SID and ImageState before
Sysprep (verify compares the clone's SID with it); an entry left by an earlier generation (another SID) is replaced.
On Server 2025 (build 26100+) Sysprep still runs as LocalSystem: see agent-docs/sysprep.md for what that means and what
to check. Test-before-Set: when Sysprep is already running, or has generalized the instance and awaits shutdown, the
payload reports ok and starts nothing.

.PARAMETER Shutdown
Shut down when Sysprep ends (default true). False keeps the instance running (EC2Launch v2 and v1 only).

.EXAMPLE
.\1.1.0.ps1

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
    Import-Module -Name (Join-Path $PSScriptRoot '..\..\agent\1.1.0\CloneAgent.psm1')
}

$run = New-CloneRun -Payload 'sysprep' -Version '1.1.0'
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

    # D11: a freshly launched work copy may still be in EC2Launch's stages or servicing updates.
    $busy = Wait-CloneInstanceQuiet -TimeoutSeconds 600
    if ($null -ne $busy) { throw ('refused: the instance is not quiet after 600 s: ' + $busy + '; wait until it is, then run sysprep again') }
    $build = 0; try { $build = [int](Get-CloneCim -ClassName Win32_OperatingSystem).BuildNumber } catch { $build = 0 }
    if ($build -ge 26100) { Set-CloneFact -Run $run -Name 'sysprepAsSystem' -Value 'build 26100+: Sysprep runs as LocalSystem; check an RDP logon on the first clone (agent-docs/sysprep.md)' }

    $users = @(Get-CloneCim -ClassName Win32_UserAccount -Filter 'LocalAccount=True AND Disabled=False')
    Set-CloneFact -Run $run -Name 'enabledLocalUsers' -Value $users.Count
    if ($users.Count -gt 1) { Write-CloneLog -Run $run -Message ("note: {0} enabled local users; AWS advises one administrator before Sysprep" -f $users.Count) }

    $sid = Get-CloneMachineSid
    $old = (Get-CloneJournal)['entries']
    if ($old.Contains('sysprep') -and -not $old['sysprep'].Contains('restoredAt') -and [string]$old['sysprep']['before']['machineSid'] -ne $sid) {
        # D6: recorded by an earlier generation (this instance is a clone of that source): close it, record afresh.
        Write-CloneLog -Run $run -Message ("journal: sysprep entry has SID {0}, this instance is {1}: a new generation" -f $old['sysprep']['before']['machineSid'], $sid)
        Set-CloneJournalRestored -Run $run -Name 'sysprep'
    }
    $null = Add-CloneJournalEntry -Run $run -Name 'sysprep' -Before ([ordered]@{
            computerName = $env:COMPUTERNAME; machineSid = $sid; imageState = $imageState; ec2Launch = $e.flavour
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
    # One encoding for the whole log (D15): every line goes through Out-File -Encoding ASCII.
    $text = @(
        '# Written by clonectl sysprep@1.1.0: starts Sysprep after the result has been sent.'
        'Start-Sleep -Seconds 20'
        ('((Get-Date).ToUniversalTime().ToString(''s'') + '' starting: {1}'') | Out-File -LiteralPath ''{0}'' -Append -Encoding ASCII' -f $log, ($line -replace "'", "''"))
        ($line + ' 2>&1 | ForEach-Object { [string]$_ } | Out-File -LiteralPath ''' + $log + ''' -Append -Encoding ASCII')
    ) -join "`r`n"
    [IO.File]::WriteAllText($starter, $text + "`r`n", [Text.Encoding]::ASCII)
    Set-CloneFact -Run $run -Name 'method' -Value $line
    Add-CloneChange -Run $run -Item 'sysprep' -From 'not started' -To ('starting in 20 s via ' + $e.flavour)
    $flags.Start = $true
}
$code = Complete-CloneRun -Run $run
if ($flags.Start -and $code -eq 0) {
    # After the envelope: a failure here can only show in stderr and the exit code.
    # Win32_Process.Create: the starter is created by WMI, so it shares no handle (the agent's stdout pipe above all)
    # with this command and outlives it without keeping the agent waiting (D15).
    try {
        $ps = Join-Path $env:SystemRoot 'System32\WindowsPowerShell\v1.0\powershell.exe'
        $cmd = '"{0}" -NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -File "{1}"' -f $ps, $starter
        if (Get-Command -Name Invoke-CimMethod -ErrorAction SilentlyContinue) {
            $r = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $cmd }
        } else {
            $r = ([wmiclass]'Win32_Process').Create($cmd)
        }
        if ([int]$r.ReturnValue -ne 0) { throw ('Win32_Process.Create returned {0}' -f $r.ReturnValue) }
    } catch {
        [Console]::Error.WriteLine('clonectl sysprep: could not start Sysprep after reporting: ' + $_.Exception.Message)
        exit 1
    }
}
exit $code

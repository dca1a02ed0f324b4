# An in-memory Windows guest for the Pester suite. Every Windows cmdlet and every module helper that touches the
# machine is mocked over $global:CloneGuest, so the payloads run in-process on any Windows runner (Windows PowerShell
# 5.1 or PowerShell 7) without changing the runner. Global on purpose: a mock made with -ModuleName runs in the
# module's scope, where the test file's script: variables and functions are not visible.
# Only the data folder is real: $env:ProgramData points into TestDrive before the module is imported.

Set-StrictMode -Version Latest

function global:New-CloneTestGuest {
    # A healthy Server 2022 clone with EC2Launch v2, one app task and two app services.
    return @{
        ComputerName = 'WIN-TEST01'; PendingName = $null; Domain = $null; DomainAccounts = @(); JoinedWith = $null
        TimeZone = 'UTC'
        Firewall = @{ Domain = $true; Private = $true; Public = $true }; FirewallForcedOn = @{}
        Users = @{ Administrator = @{ enabled = $true; inAdministrators = $true } }; Passwords = @{}
        Tasks = @(
            @{ TaskPath = '\App\'; TaskName = 'Nightly'; State = 'Ready' },
            @{ TaskPath = '\App\'; TaskName = 'Hourly'; State = 'Ready' }
        )
        Services = [ordered]@{
            AmazonSSMAgent = @{ Start = 2; Delayed = 0; Status = 'Running'; Dependents = @(); StartError = $null }
            AppSvc = @{ Start = 2; Delayed = 1; Status = 'Running'; Dependents = @(); StartError = $null }
            AppWorker = @{ Start = 3; Delayed = 0; Status = 'Stopped'; Dependents = @(); StartError = $null }
        }
        Secrets = @{
            '/clonectl/pw' = @{ Type = 'SecureString'; Value = 'Pa55-w0rd!' }
            '/clonectl/plain' = @{ Type = 'String'; Value = 'not-secret' }
            '/clonectl/join' = @{ Type = 'SecureString'; Value = "CORP\joiner`nJ0in-Pa55" }
        }
        Ec2Launch = 'v2'; Ec2LaunchStatus = 0; Ec2LaunchTasks = @('extendRootPartition', 'setAdminAccount', 'startSsm')
        Build = 20348; ImageState = 'IMAGE_STATE_COMPLETE'; MachineSid = 'S-1-5-21-1111-2222-3333'
        Provisioned = @(); Installed = @(); TiWorker = $false
        Registry = @{}          # HKLM paths that exist (pending-reboot keys, Netlogon JoinDomain)
        Acls = @{}              # path -> DirectorySecurity; absent = protected, owned by Administrators
        Created = New-Object System.Collections.ArrayList   # Win32_Process.Create command lines
    }
}

function global:New-CloneTestAcl {
    # A DirectorySecurity in memory: owner SID, protected or not, and Allow rules as SID -> FileSystemRights.
    param([string] $Owner = 'S-1-5-32-544', [bool] $Protected = $true, [hashtable] $Allow = @{ 'S-1-5-18' = 'FullControl'; 'S-1-5-32-544' = 'FullControl' })
    $acl = New-Object Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($Protected, $false)
    $acl.SetOwner((New-Object Security.Principal.SecurityIdentifier($Owner)))
    foreach ($sid in $Allow.Keys) {
        $rule = New-Object Security.AccessControl.FileSystemAccessRule((New-Object Security.Principal.SecurityIdentifier($sid)),
            [Security.AccessControl.FileSystemRights]$Allow[$sid], [Security.AccessControl.AccessControlType]::Allow)
        $acl.AddAccessRule($rule)
    }
    return $acl
}

function global:Step-CloneTestReboot {
    # What a reboot does to the guest: the pending name and domain join take effect.
    if ($global:CloneGuest.PendingName) { $global:CloneGuest.ComputerName = $global:CloneGuest.PendingName; $global:CloneGuest.PendingName = $null }
    if ($global:CloneGuest.Registry.ContainsKey('HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon\JoinDomain')) {
        $global:CloneGuest.Domain = $global:CloneGuest.JoinedWith
        $global:CloneGuest.Registry.Remove('HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon\JoinDomain')
    }
}

function global:ConvertFrom-CloneTestSecure {
    param([securestring] $Secure)
    $b = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
    try { return [Runtime.InteropServices.Marshal]::PtrToStringBSTR($b) } finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($b) }
}

function global:Register-CloneStub {
    # Pester mocks only commands that exist: give a cmdlet missing on this runner (PowerShell 7 has no Add-Computer or
    # Rename-Computer; AWS Tools may be absent) an advanced-function stub with the parameters the payloads pass.
    param([hashtable] $Commands)
    foreach ($n in $Commands.Keys) {
        if (-not (Get-Command -Name $n -ErrorAction SilentlyContinue)) {
            $body = [scriptblock]::Create('[CmdletBinding()] param(' + $Commands[$n] + ')')
            $null = Set-Item -Path ('function:global:' + $n) -Value $body -Force
        }
    }
}

function global:Invoke-ClonePayload {
    # Runs one payload file in-process like the loader does (parameters splatted), capturing the envelope written
    # to [Console]::Out. Returns Code, Text (the exact bytes), Json (the JSON line) and Envelope (parsed).
    param([Parameter(Mandatory = $true)] [string] $Name, [hashtable] $Params = @{}, [string] $Version = '1.1.0')
    $path = Join-Path $global:ClonePsScripts ('payloads\{0}\{1}.ps1' -f $Name, $Version)
    & (Get-Module CloneAgent) { $script:Context.Written = $false; $script:Context.DataRootChecked = $false; $script:Context.DataRoot = '' }
    $writer = New-Object IO.StringWriter
    $old = [Console]::Out
    [Console]::SetOut($writer)
    try {
        $null = & $path @Params
        $code = $LASTEXITCODE
    } finally {
        [Console]::SetOut($old)
    }
    $text = $writer.ToString()
    $lines = $text -split "`r`n"
    $json = $null; $envelope = $null
    if ($lines.Count -ge 3 -and $lines[0] -eq '-----BEGIN CLONECTL RESULT v1-----') { $json = $lines[1]; $envelope = $json | ConvertFrom-Json }
    return [pscustomobject]@{ Code = $code; Text = $text; Json = $json; Envelope = $envelope }
}

function global:Register-CloneGuestMocks {
    # Every mock twice: in the test scope (commands the payload script calls itself) and in the module's scope
    # (commands CloneAgent calls). Bodies read and change $global:CloneGuest.
    $both = @(
        @{ Name = 'Get-CloneEc2Launch'; Body = {
                $f = $global:CloneGuest.Ec2Launch
                $p = ''; if ($f -eq 'v2') { $p = 'C:\Program Files\Amazon\EC2Launch\EC2Launch.exe' }
                return [ordered]@{ flavour = $f; version = '2.0.2107'; path = $p } } },
        @{ Name = 'Get-CloneEc2LaunchV2Tasks'; Body = { return , @($global:CloneGuest.Ec2LaunchTasks) } },
        @{ Name = 'Get-CloneEc2LaunchStatus'; Body = { if ($global:CloneGuest.Ec2Launch -ne 'v2') { return $null }; return $global:CloneGuest.Ec2LaunchStatus } },
        @{ Name = 'Get-CloneMachineSid'; Body = { return $global:CloneGuest.MachineSid } },
        @{ Name = 'Get-CloneImageState'; Body = { return $global:CloneGuest.ImageState } },
        @{ Name = 'Invoke-CloneImds'; Body = {
                if ($Path -eq 'meta-data/instance-id') { return 'i-0123456789abcdef0' }
                if ($Path -eq 'meta-data/placement/region') { return 'us-east-1' }
                return 'on-demand' } },
        @{ Name = 'Get-CloneAwsCliVersion'; Body = { return [version]'2.15.0' } },
        @{ Name = 'Invoke-CloneNative'; Body = {
                if ($ArgumentList -and $ArgumentList[0] -eq 'status') { return @{ ExitCode = $global:CloneGuest.Ec2LaunchStatus; Output = @(); Error = '' } }
                if ($FilePath -eq 'sc.exe') {
                    $svc = $global:CloneGuest.Services[$ArgumentList[1]]
                    if ($ArgumentList[3] -eq 'delayed-auto') { $svc.Start = 2; $svc.Delayed = 1 } else { $svc.Start = 2; $svc.Delayed = 0 }
                    return @{ ExitCode = 0; Output = @('[SC] ChangeServiceConfig SUCCESS'); Error = '' }
                }
                return @{ ExitCode = 0; Output = @(); Error = '' } } },
        @{ Name = 'Get-CloneRegistryValue'; Body = {
                if ($Path -like '*\ComputerName\ActiveComputerName') { return $global:CloneGuest.ComputerName }
                if ($Path -like '*\ComputerName\ComputerName') { if ($global:CloneGuest.PendingName) { return $global:CloneGuest.PendingName }; return $global:CloneGuest.ComputerName }
                if ($Path -like 'HKLM:\SYSTEM\CurrentControlSet\Services\*') {
                    $svc = $global:CloneGuest.Services[(Split-Path -Leaf $Path)]
                    if ($null -ne $svc -and $Name -eq 'Start') { return $svc.Start }
                    if ($null -ne $svc -and $Name -eq 'DelayedAutostart') { return $svc.Delayed }
                }
                return $Default } },
        @{ Name = 'Get-CloneCim'; Body = {
                switch ($ClassName) {
                    'Win32_OperatingSystem' { return [pscustomobject]@{ Caption = 'Microsoft Windows Server'; Version = ('10.0.{0}' -f $global:CloneGuest.Build); BuildNumber = [string]$global:CloneGuest.Build } }
                    'Win32_ComputerSystem' {
                        $d = 'WORKGROUP'; if ($global:CloneGuest.Domain) { $d = $global:CloneGuest.Domain }
                        return [pscustomobject]@{ PartOfDomain = [bool]$global:CloneGuest.Domain; Domain = $d; DomainRole = 2 } }
                    'Win32_EncryptableVolume' { throw 'Invalid namespace' }
                    'SoftwareLicensingService' { return [pscustomobject]@{ RemainingWindowsRearmCount = 1000 } }
                    'Win32_UserAccount' { return @($global:CloneGuest.Users.Keys | Where-Object { $global:CloneGuest.Users[$_].enabled } | ForEach-Object { [pscustomobject]@{ Name = $_ } }) }
                    default { return @() }
                } } },
        @{ Name = 'Get-Service'; Body = {
                $names = @($global:CloneGuest.Services.Keys)
                if ($Name) { $names = @($names | Where-Object { $_ -like $Name }) }
                foreach ($n in $names) {
                    $s = $global:CloneGuest.Services[$n]
                    $deps = @($s.Dependents | ForEach-Object { [pscustomobject]@{ Name = $_; Status = $global:CloneGuest.Services[$_].Status } })
                    [pscustomobject]@{ Name = $n; Status = $s.Status; DependentServices = $deps }
                } } },
        @{ Name = 'Start-Service'; Body = {
                $s = $global:CloneGuest.Services[@($Name)[0]]
                if ($s.StartError) { throw ("Service '{0} ({0})' cannot be started due to the following error: {1}" -f $Name, $s.StartError) }
                $s.Status = 'Running' } },
        @{ Name = 'Stop-Service'; Body = { $global:CloneGuest.Services[@($Name)[0]].Status = 'Stopped' } },
        @{ Name = 'Set-Service'; Body = {
                $s = $global:CloneGuest.Services[@($Name)[0]]; $s.Delayed = 0
                if ($StartupType -eq 'Manual') { $s.Start = 3 } elseif ($StartupType -eq 'Disabled') { $s.Start = 4 } } },
        @{ Name = 'Get-ScheduledTask'; Body = {
                foreach ($t in $global:CloneGuest.Tasks) {
                    if ((-not $TaskPath -or $t.TaskPath -like $TaskPath) -and (-not $TaskName -or $t.TaskName -like $TaskName)) {
                        [pscustomobject]@{ TaskPath = $t.TaskPath; TaskName = $t.TaskName; State = $t.State }
                    }
                } } },
        @{ Name = 'Disable-ScheduledTask'; Body = { ($global:CloneGuest.Tasks | Where-Object { $_.TaskPath -eq $TaskPath -and $_.TaskName -eq $TaskName }).State = 'Disabled' } },
        @{ Name = 'Enable-ScheduledTask'; Body = { ($global:CloneGuest.Tasks | Where-Object { $_.TaskPath -eq $TaskPath -and $_.TaskName -eq $TaskName }).State = 'Ready' } },
        @{ Name = 'Stop-ScheduledTask'; Body = { ($global:CloneGuest.Tasks | Where-Object { $_.TaskPath -eq $TaskPath -and $_.TaskName -eq $TaskName }).State = 'Ready' } },
        @{ Name = 'Get-NetFirewallProfile'; Body = {
                $Name = @($Name)[0]
                $on = $global:CloneGuest.Firewall[$Name]
                if ($PolicyStore -eq 'ActiveStore' -and $global:CloneGuest.FirewallForcedOn.ContainsKey($Name)) { $on = $true }
                $text = 'False'; if ($on) { $text = 'True' }
                return [pscustomobject]@{ Name = $Name; Enabled = $text; DefaultOutboundAction = 'Allow' } } },
        @{ Name = 'Set-NetFirewallProfile'; Body = { $global:CloneGuest.Firewall[@($Name)[0]] = ([string]$Enabled -eq 'True') } },
        @{ Name = 'Get-CloneLocalUserState'; Body = {
                $u = $global:CloneGuest.Users[$Name]
                if ($null -eq $u) { return [ordered]@{ name = $Name; exists = $false; enabled = $false; inAdministrators = $false } }
                return [ordered]@{ name = $Name; exists = $true; enabled = [bool]$u.enabled; inAdministrators = [bool]$u.inAdministrators } } },
        @{ Name = 'Set-CloneLocalUserEnabled'; Body = { $global:CloneGuest.Users[$Name].enabled = [bool]$Enabled } },
        @{ Name = 'Set-CloneAdministratorsMember'; Body = { $global:CloneGuest.Users[$Name].inAdministrators = [bool]$Member } },
        @{ Name = 'Set-CloneLocalUserPassword'; Body = {
                if ($Create) { $global:CloneGuest.Users[$Name] = @{ enabled = $true; inAdministrators = $false } }
                $global:CloneGuest.Passwords[$Name] = ConvertFrom-CloneTestSecure $Password } },
        @{ Name = 'Remove-CloneLocalUser'; Body = { $global:CloneGuest.Users.Remove($Name) } },
        @{ Name = 'Get-SSMParameter'; Body = {
                $p = $global:CloneGuest.Secrets[$Name]
                if ($null -eq $p) { throw "ParameterNotFound: $Name" }
                return [pscustomobject]@{ Name = $Name; Type = $p.Type; Value = $p.Value } } },
        @{ Name = 'Get-Process'; Body = {
                if ($Name -eq 'TiWorker' -and $global:CloneGuest.TiWorker) { return [pscustomobject]@{ Name = 'TiWorker' } } } },
        @{ Name = 'Get-AppxProvisionedPackage'; Body = { return $global:CloneGuest.Provisioned } },
        @{ Name = 'Get-AppxPackage'; Body = { return $global:CloneGuest.Installed } },
        @{ Name = 'Get-Acl'; Body = {
                $key = @($LiteralPath)[0]
                if ($global:CloneGuest.Acls.ContainsKey($key)) { return $global:CloneGuest.Acls[$key] }
                return (New-CloneTestAcl) } },
        @{ Name = 'Set-Acl'; Body = { $global:CloneGuest.Acls[@($LiteralPath)[0]] = $AclObject } },
        @{ Name = 'Start-Sleep'; Body = { } }
    )
    $task = '$TaskPath, $TaskName'
    Register-CloneStub -Commands @{
        'Get-ScheduledTask' = $task; 'Disable-ScheduledTask' = $task; 'Enable-ScheduledTask' = $task; 'Stop-ScheduledTask' = $task
        'Get-NetFirewallProfile' = '$Name, $PolicyStore'; 'Set-NetFirewallProfile' = '$Name, $Enabled'
        'Get-SSMParameter' = '$Name, $WithDecryption, $Region'; 'Get-AppxPackage' = '[switch] $AllUsers'
        'Get-AppxProvisionedPackage' = '[switch] $Online'; 'Rename-Computer' = '$NewName, [switch] $Force'
        'Add-Computer' = '$DomainName, $Credential, $OUPath, [switch] $Force'; 'Get-TimeZone' = ''; 'Set-TimeZone' = '$Id'
        'Invoke-CimMethod' = '$ClassName, $MethodName, $Arguments'
    }
    foreach ($m in $both) {
        Mock -CommandName $m.Name -MockWith $m.Body
        Mock -CommandName $m.Name -MockWith $m.Body -ModuleName CloneAgent
    }
    # Registry keys only from the guest, never the runner's real registry.
    $hklm = { $LiteralPath -like 'HKLM:*' }
    Mock -CommandName Test-Path -ParameterFilter $hklm -MockWith { return $global:CloneGuest.Registry.ContainsKey(@($LiteralPath)[0]) }
    Mock -CommandName Test-Path -ParameterFilter $hklm -MockWith { return $global:CloneGuest.Registry.ContainsKey(@($LiteralPath)[0]) } -ModuleName CloneAgent
    # The runner's installed AWS modules must not leak in: preflight sees none, so it asks the (mocked) CLI.
    Mock -CommandName Get-Module -ParameterFilter { $ListAvailable } -MockWith { return @() }
    Mock -CommandName Get-Module -ParameterFilter { $ListAvailable } -MockWith { return @() } -ModuleName CloneAgent
    # Payload-only cmdlets.
    Mock -CommandName Get-TimeZone -MockWith { return [pscustomobject]@{ Id = $global:CloneGuest.TimeZone } }
    Mock -CommandName Set-TimeZone -MockWith { $global:CloneGuest.TimeZone = $Id }
    Mock -CommandName Rename-Computer -MockWith { $global:CloneGuest.PendingName = $NewName }
    Mock -CommandName Add-Computer -MockWith {
        if ($global:CloneGuest.DomainAccounts -contains $global:CloneGuest.ComputerName) {
            throw ("Computer '{0}' failed to join domain '{1}' from its current workgroup 'WORKGROUP' with following error message: An account with the same name exists in Active Directory. Re-using the account was blocked by security policy. (0xAAC)" -f $global:CloneGuest.ComputerName, $DomainName)
        }
        $global:CloneGuest.JoinedWith = $DomainName
        $global:CloneGuest.Passwords['join:' + $Credential.UserName] = $Credential.GetNetworkCredential().Password
        $global:CloneGuest.Registry['HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon\JoinDomain'] = $true
    }
    Mock -CommandName Invoke-CimMethod -MockWith {
        $null = $global:CloneGuest.Created.Add($Arguments.CommandLine)
        return [pscustomobject]@{ ReturnValue = 0 }
    }
    # D2 witnesses: a plaintext secret must never reach these (module logging would record it).
    Mock -CommandName ConvertTo-SecureString -MockWith { throw 'ConvertTo-SecureString must not be called with a secret (D2)' } -ModuleName CloneAgent
    Mock -CommandName ConvertTo-SecureString -MockWith { throw 'ConvertTo-SecureString must not be called with a secret (D2)' }
}

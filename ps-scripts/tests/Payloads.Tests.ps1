#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.3.0' }
# Pester 5 suite for payloads 1.1.0: every payload runs in-process over the in-memory guest of CloneGuest.ps1, on
# Windows PowerShell 5.1 and PowerShell 7 (.github/workflows/windows-payloads.yml). Each review defect the payloads
# fix has an It whose name carries its number (Dn); tests/test_pester_suite.py checks that every payload has a
# Describe and every defect an It, by parsing this file with tree-sitter.
#   Invoke-Pester -Path ps-scripts/tests -Output Detailed

BeforeAll {
    $global:ClonePsScripts = Split-Path -Parent $PSScriptRoot
    $script:Repo = Split-Path -Parent $global:ClonePsScripts
    . (Join-Path $PSScriptRoot 'CloneGuest.ps1')
    # The module reads $env:ProgramData once, when imported: point it at a scratch folder first.
    $script:SavedProgramData = $env:ProgramData
    $script:Scratch = Join-Path ([IO.Path]::GetTempPath()) ('clonectl-pester-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $script:Scratch -Force
    $env:ProgramData = $script:Scratch
    Import-Module -Name (Join-Path $global:ClonePsScripts 'agent\1.1.0\CloneAgent.psm1') -Force
    $script:Vectors = Get-Content -Raw -LiteralPath (Join-Path $script:Repo 'Tests\Fixtures\envelope-vectors.json') | ConvertFrom-Json
    $script:Root = Join-Path $env:ProgramData 'clonectl'
}

AfterAll {
    Remove-Module -Name CloneAgent -Force -ErrorAction SilentlyContinue
    $env:ProgramData = $script:SavedProgramData
    # Only the scratch folder this file made, never whatever ProgramData points at.
    if ($script:Scratch -and $script:Scratch -like '*clonectl-pester-*') { Remove-Item -LiteralPath $script:Scratch -Recurse -Force -ErrorAction SilentlyContinue }
}

BeforeEach {
    $global:CloneGuest = New-CloneTestGuest
    Remove-Item -LiteralPath $script:Root -Recurse -Force -ErrorAction SilentlyContinue
    Register-CloneGuestMocks
}

Describe 'envelope' {
    It 'writes every shared writer string exactly (envelope vectors)' {
        foreach ($case in $script:Vectors.writerStrings) {
            ConvertTo-CloneJson ([string]$case.input) | Should -BeExactly $case.expected
        }
    }

    It 'rebuilds every verified vector byte for byte, with its hash (envelope vectors)' {
        $checked = 0
        foreach ($v in @($script:Vectors.vectors | Where-Object { $_.expectedVerdict -eq 'verified' })) {
            $lines = @([regex]::Split($v.output, "\r?\n") | ForEach-Object { $_.TrimStart([char]0xFEFF) })
            $last = [array]::LastIndexOf($lines, '-----BEGIN CLONECTL RESULT v1-----')
            $json = $lines[$last + 1]
            $data = ConvertTo-CloneData ($json | ConvertFrom-Json)
            ConvertTo-CloneJson $data | Should -BeExactly $json -Because $v.name
            $hash = Get-CloneSha256Hex -Bytes ([Text.Encoding]::ASCII.GetBytes($json))
            $lines[$last + 2] | Should -BeExactly ('-----END CLONECTL RESULT sha256=' + $hash + '-----') -Because $v.name
            if ($v.name -eq 'verified-crlf') { Format-CloneEnvelope -Body $data | Should -BeExactly $v.output }
            $checked++
        }
        $checked | Should -BeGreaterThan 3
    }

    It 'keeps the envelope under 23,900 characters, below the agent cut (D13)' {
        $run = New-CloneRun -Payload 'sysprep-logs' -Version '1.1.0' -MaxChars 23900
        Set-CloneFact -Run $run -Name 'big' -Value ('x' * 30000)
        $writer = New-Object IO.StringWriter; $old = [Console]::Out; [Console]::SetOut($writer)
        try { $null = Complete-CloneRun -Run $run } finally { [Console]::SetOut($old) }
        $writer.ToString().Length | Should -BeLessOrEqual 23900
        $writer.ToString() | Should -Match 'exceeded the 23900-character envelope limit'
        { New-CloneRun -Payload 'x' -Version '1.1.0' -MaxChars 24000 } | Should -Throw
    }
}

Describe 'data folder' {
    It 'creates C:\ProgramData\clonectl protected, SYSTEM and Administrators only (D1)' {
        $r = Invoke-ClonePayload -Name 'preflight'
        $r.Code | Should -Be 0
        $acl = $global:CloneGuest.Acls[$script:Root]
        $acl.AreAccessRulesProtected | Should -BeTrue
        $acl.GetOwner([Security.Principal.SecurityIdentifier]).Value | Should -Be 'S-1-5-32-544'
        @($acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier]) | ForEach-Object { $_.IdentityReference.Value } | Sort-Object) |
            Should -Be @('S-1-5-18', 'S-1-5-32-544')
    }

    It 'protects a folder 1.0.0 left inherited from ProgramData (D1)' {
        $null = New-Item -ItemType Directory -Path $script:Root -Force
        $global:CloneGuest.Acls[$script:Root] = New-CloneTestAcl -Protected $false -Allow @{ 'S-1-5-18' = 'FullControl'; 'S-1-5-32-545' = 'CreateFiles, AppendData' }
        (Invoke-ClonePayload -Name 'firewall-off').Code | Should -Be 0
        $global:CloneGuest.Acls[$script:Root].AreAccessRulesProtected | Should -BeTrue
    }

    It 'refuses a journal a non-administrator created, and trusts nothing in it (D1)' {
        (Invoke-ClonePayload -Name 'firewall-off').Code | Should -Be 0
        $journal = Join-Path $script:Root 'journal.json'
        $global:CloneGuest.Acls[$journal] = New-CloneTestAcl -Owner 'S-1-5-21-1111-2222-3333-1001'
        $r = Invoke-ClonePayload -Name 'firewall-restore'
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'not safe to trust'
        $r.Envelope.errors[0] | Should -Match 'S-1-5-21-1111-2222-3333-1001'
        $global:CloneGuest.Firewall.Public | Should -BeFalse -Because 'nothing is restored from an untrusted journal'
    }

    It 'refuses a data folder owned by a non-administrator (D1)' {
        $null = New-Item -ItemType Directory -Path $script:Root -Force
        $global:CloneGuest.Acls[$script:Root] = New-CloneTestAcl -Owner 'S-1-5-21-1111-2222-3333-1001'
        $r = Invoke-ClonePayload -Name 'preflight'
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'is owned by S-1-5-21-1111-2222-3333-1001'
    }

    It 'says Constrained Language Mode instead of a puzzling refusal (D17)' {
        $loader = Join-Path $global:ClonePsScripts 'loader\1.1.0\loader.ps1'
        $exe = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName   # Get-Process is mocked here
        $command = '$ExecutionContext.SessionState.LanguageMode = ''ConstrainedLanguage''; & ''' + $loader + '''; exit $LASTEXITCODE'
        $err = Join-Path ([IO.Path]::GetTempPath()) ('clm-' + [guid]::NewGuid().ToString('N') + '.txt')
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command))
        $p = Start-Process -FilePath $exe -ArgumentList ('-NoProfile -NonInteractive -EncodedCommand ' + $encoded) -Wait -PassThru -NoNewWindow -RedirectStandardError $err
        $p.ExitCode | Should -Be 2
        (Get-Content -Raw -LiteralPath $err) | Should -Match 'ConstrainedLanguage mode'
        Test-CloneConstrainedLanguage | Should -BeFalse
    }
}

Describe 'preflight' {
    It 'is read-only and reports the same twice' {
        $a = Invoke-ClonePayload -Name 'preflight'
        $b = Invoke-ClonePayload -Name 'preflight'
        $a.Code | Should -Be 0
        $a.Envelope.status | Should -Be 'ok'
        $b.Envelope.changed.Count | Should -Be 0
        $a.Envelope.facts.ready | Should -BeTrue
    }

    It 'does not call a provisioned bundle a per-user AppX package (D5)' {
        $pub = '8wekyb3d8bbwe'
        $global:CloneGuest.Provisioned = @([pscustomobject]@{ DisplayName = 'Microsoft.DesktopAppInstaller'; PackageName = "Microsoft.DesktopAppInstaller_2024.506.2113.0_neutral_~_$pub" })
        $global:CloneGuest.Installed = @(
            [pscustomobject]@{ Name = 'Microsoft.DesktopAppInstaller'; PackageFullName = "Microsoft.DesktopAppInstaller_1.22.11261.0_x64__$pub"; IsFramework = $false; SignatureKind = 'Store'; IsResourcePackage = $false },
            [pscustomobject]@{ Name = 'Contoso.Tool'; PackageFullName = "Contoso.Tool_1.0.0.0_x64__abc"; IsFramework = $false; SignatureKind = 'Developer'; IsResourcePackage = $false }
        )
        $r = Invoke-ClonePayload -Name 'preflight'
        @($r.Envelope.facts.sysprepBlockers | ForEach-Object { $_.id }) | Should -Be @('appx-per-user')
        $r.Envelope.facts.sysprepBlockers[0].reason | Should -Match 'Contoso.Tool'
        $r.Envelope.facts.sysprepBlockers[0].reason | Should -Not -Match 'DesktopAppInstaller'
    }

    It 'reports the rearm count as a fact, not a blocker (D18)' {
        $r = Invoke-ClonePayload -Name 'preflight'
        $r.Envelope.facts.rearmCount | Should -Be 1000
        @($r.Envelope.facts.sysprepBlockers | Where-Object { $_.id -eq 'sysprep-count' }).Count | Should -Be 0
    }

    It 'reports an AWS Tools version too old for IMDSv2 with the fix (D7)' {
        Mock -CommandName Get-CloneAwsToolsVersion -MockWith { return [version]'3.3.563' }
        $r = Invoke-ClonePayload -Name 'preflight'
        $r.Envelope.facts.secretReader.awsTools | Should -Be '3.3.563'
        $r.Envelope.facts.secretReader.problem | Should -Match 'install AWS.Tools.SimpleSystemsManagement 4'
    }

    It 'notes Sysprep as SYSTEM on Server 2025 Desktop Experience (D3)' {
        $global:CloneGuest.Build = 26100
        Mock -CommandName Test-Path -ParameterFilter { $LiteralPath -like '*explorer.exe' } -MockWith { return $true }
        $r = Invoke-ClonePayload -Name 'preflight'
        ($r.Envelope.facts.notes -join ' ') | Should -Match 'Sysprep run as SYSTEM'
    }
}

Describe 'work-user' {
    It 'creates the user with the SecureString, then reports ok and changes nothing' {
        $p = @{ UserName = 'clonework'; PasswordParameter = '/clonectl/pw' }
        $a = Invoke-ClonePayload -Name 'work-user' -Params $p
        $a.Code | Should -Be 0
        $a.Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Users['clonework'].inAdministrators | Should -BeTrue
        $global:CloneGuest.Passwords['clonework'] | Should -BeExactly 'Pa55-w0rd!'
        $b = Invoke-ClonePayload -Name 'work-user' -Params $p
        $b.Envelope.status | Should -Be 'ok'
        $a.Text | Should -Not -Match 'Pa55-w0rd'
    }

    It 'never binds the password to a cmdlet parameter (D2)' {
        $null = Invoke-ClonePayload -Name 'work-user' -Params @{ UserName = 'clonework'; PasswordParameter = '/clonectl/pw' }
        Should -Invoke -CommandName ConvertTo-SecureString -ModuleName CloneAgent -Times 0 -Exactly
        Should -Invoke -CommandName ConvertTo-SecureString -Times 0 -Exactly
    }

    It 'refuses a parameter that is not a SecureString' {
        $r = Invoke-ClonePayload -Name 'work-user' -Params @{ UserName = 'clonework'; PasswordParameter = '/clonectl/plain' }
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'is a String, not a SecureString'
        $r.Text | Should -Not -Match 'not-secret'
    }

    It 'reads a non-ASCII password intact through the AWS CLI, decoding JSON itself (D16)' {
        Mock -CommandName Get-Command -ModuleName CloneAgent -ParameterFilter { $Name -eq 'Get-SSMParameter' } -MockWith { return $null }
        Mock -CommandName Get-Command -ModuleName CloneAgent -ParameterFilter { $Name -eq 'aws.exe' } -MockWith { return [pscustomobject]@{ Name = 'aws.exe' } }
        Mock -CommandName Invoke-CloneNative -ModuleName CloneAgent -ParameterFilter { $FilePath -eq 'aws.exe' } -MockWith {
            return @{ ExitCode = 0; Output = @('[', '    "SecureString",', ('    "P\u00e4ss-' + [char]0x65E5 + '\"q\\"'), ']'); Error = '' }
        }
        Mock -CommandName ConvertFrom-Json -ModuleName CloneAgent -MockWith { throw 'ConvertFrom-Json must not see the secret (D2)' }
        $secure = & (Get-Module CloneAgent) { Read-CloneSecureString -Name '/clonectl/pw' -Region 'us-east-1' }
        ConvertFrom-CloneTestSecure $secure | Should -BeExactly ('P' + [char]0xE4 + 'ss-' + [char]0x65E5 + '"q\')
    }
}

Describe 'firewall-off' {
    It 'records all three profiles, turns them off, then reports ok' {
        $a = Invoke-ClonePayload -Name 'firewall-off'
        $a.Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Firewall.Values | Should -Not -Contain $true
        (Invoke-ClonePayload -Name 'firewall-off').Envelope.status | Should -Be 'ok'
    }

    It 'fails when a Group Policy keeps a profile on' {
        $global:CloneGuest.FirewallForcedOn['Domain'] = $true
        $r = Invoke-ClonePayload -Name 'firewall-off'
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'Group Policy'
    }
}

Describe 'firewall-restore' {
    It 'puts back exactly what was recorded, then reports ok' {
        $global:CloneGuest.Firewall.Private = $false
        $null = Invoke-ClonePayload -Name 'firewall-off'
        $r = Invoke-ClonePayload -Name 'firewall-restore'
        $r.Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Firewall.Domain | Should -BeTrue
        $global:CloneGuest.Firewall.Private | Should -BeFalse
        $global:CloneGuest.Firewall.Public | Should -BeTrue
        (Invoke-ClonePayload -Name 'firewall-restore').Envelope.status | Should -Be 'ok'
    }

    It 'refuses without a journal entry' {
        $r = Invoke-ClonePayload -Name 'firewall-restore'
        $r.Envelope.errors[0] | Should -Match 'run firewall-off on the source'
    }
}

Describe 'jobs-stop' {
    It 'records, disables and stops, then reports ok' {
        $p = @{ Tasks = @('\App\*'); Services = @('AppSvc') }
        $a = Invoke-ClonePayload -Name 'jobs-stop' -Params $p
        $a.Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Services.AppSvc.Status | Should -Be 'Stopped'
        $global:CloneGuest.Services.AppSvc.Start | Should -Be 4
        (Invoke-ClonePayload -Name 'jobs-stop' -Params $p).Envelope.status | Should -Be 'ok'
    }

    It 'refuses the SSM agent and other protected services before changing anything (D12)' {
        $r = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Services = @('AppSvc', 'AmazonSSMAgent') }
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match "'AmazonSSMAgent' is protected"
        $global:CloneGuest.Services.AppSvc.Status | Should -Be 'Running'
        $global:CloneGuest.Services.AmazonSSMAgent.Status | Should -Be 'Running'
    }

    It 'refuses a service whose stop would cascade to a protected one (D12)' {
        $global:CloneGuest.Services['NetHelper'] = @{ Start = 2; Delayed = 0; Status = 'Running'; Dependents = @('AmazonSSMAgent'); StartError = $null }
        $r = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Services = @('NetHelper') }
        $r.Envelope.errors[0] | Should -Match "would also stop the protected service 'AmazonSSMAgent'"
    }

    It 'fails on a pattern that matches nothing' {
        $r = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Tasks = @('\Nothing\*') }
        $r.Envelope.errors[0] | Should -Match 'no scheduled task matches'
    }
}

Describe 'jobs-restore' {
    It 'restores start types (delayed included) and states exactly, then reports ok' {
        $null = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Tasks = @('\App\Nightly'); Services = @('AppSvc', 'AppWorker') }
        $r = Invoke-ClonePayload -Name 'jobs-restore'
        $r.Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Services.AppSvc.Start | Should -Be 2
        $global:CloneGuest.Services.AppSvc.Delayed | Should -Be 1
        $global:CloneGuest.Services.AppSvc.Status | Should -Be 'Running'
        $global:CloneGuest.Services.AppWorker.Start | Should -Be 3
        $global:CloneGuest.Services.AppWorker.Status | Should -Be 'Stopped'
        ($global:CloneGuest.Tasks | Where-Object { $_.TaskName -eq 'Nightly' }).State | Should -Be 'Ready'
        (Invoke-ClonePayload -Name 'jobs-restore').Envelope.status | Should -Be 'ok'
    }

    It 'goes on past a service that will not start and reports it; a re-run after the fix finishes (D4)' {
        $global:CloneGuest.Services['AppWeb'] = @{ Start = 2; Delayed = 0; Status = 'Running'; Dependents = @(); StartError = $null }
        $null = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Services = @('AppSvc', 'AppWeb') }
        $global:CloneGuest.Services.AppSvc.StartError = 'The service did not start due to a logon failure.'
        $r = Invoke-ClonePayload -Name 'jobs-restore'
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'AppSvc could not start'
        $global:CloneGuest.Services.AppWeb.Status | Should -Be 'Running'
        $global:CloneGuest.Services.AppSvc.Start | Should -Be 2
        $global:CloneGuest.Services.AppSvc.StartError = $null
        $again = Invoke-ClonePayload -Name 'jobs-restore'
        $again.Envelope.status | Should -Be 'changed'
        (Get-CloneJournal)['entries']['jobs'].Contains('restoredAt') | Should -BeTrue
    }
}

Describe 'source-restore' {
    It 'puts back firewall, jobs and work user, removes the created user, then reports ok' {
        $null = Invoke-ClonePayload -Name 'work-user' -Params @{ UserName = 'clonework'; PasswordParameter = '/clonectl/pw' }
        $null = Invoke-ClonePayload -Name 'firewall-off'
        $null = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Services = @('AppSvc') }
        $r = Invoke-ClonePayload -Name 'source-restore'
        $r.Envelope.status | Should -Be 'changed'
        @($r.Envelope.facts.restored) | Should -Be @('firewall', 'jobs', 'workUser')
        $global:CloneGuest.Users.ContainsKey('clonework') | Should -BeFalse
        $global:CloneGuest.Services.AppSvc.Status | Should -Be 'Running'
        (Invoke-ClonePayload -Name 'source-restore').Envelope.status | Should -Be 'ok'
    }
}

Describe 'work-user-disable' {
    It 'disables a user prep created, then reports ok' {
        $null = Invoke-ClonePayload -Name 'work-user' -Params @{ UserName = 'clonework'; PasswordParameter = '/clonectl/pw' }
        (Invoke-ClonePayload -Name 'work-user-disable').Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Users['clonework'].enabled | Should -BeFalse
        (Invoke-ClonePayload -Name 'work-user-disable').Envelope.status | Should -Be 'ok'
    }
}

Describe 'sysprep' {
    It 'writes the result, then starts Sysprep through Win32_Process.Create (D15)' {
        $r = Invoke-ClonePayload -Name 'sysprep'
        $r.Code | Should -Be 0
        $r.Envelope.status | Should -Be 'changed'
        $global:CloneGuest.Created.Count | Should -Be 1
        $global:CloneGuest.Created[0] | Should -Match 'sysprep-start.ps1'
        $starter = Get-Content -Raw -LiteralPath (Join-Path $script:Root 'sysprep-start.ps1')
        $starter | Should -Match 'Out-File -LiteralPath .* -Append -Encoding ASCII'
        $starter | Should -Match 'EC2Launch.exe'' sysprep --shutdown'
    }

    It 'waits for EC2Launch v2 and refuses while it is still running its stages (D11)' {
        $global:CloneGuest.Ec2LaunchStatus = 2
        Mock -CommandName Wait-CloneInstanceQuiet -MockWith { & (Get-Module CloneAgent) { Wait-CloneInstanceQuiet -TimeoutSeconds 0 } }
        $r = Invoke-ClonePayload -Name 'sysprep'
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'EC2Launch v2 is still running its stages'
        $global:CloneGuest.Created.Count | Should -Be 0
    }

    It 'counts a pending rename as a reboot-pending blocker (D11)' {
        $global:CloneGuest.PendingName = 'APP09'
        $r = Invoke-ClonePayload -Name 'sysprep'
        $r.Envelope.errors[0] | Should -Match 'blocker reboot-pending: a reboot is pending \(rename\)'
    }

    It 'records a new generation over an entry with another SID (D6)' {
        $null = Invoke-ClonePayload -Name 'firewall-off'
        $j = Get-CloneJournal
        $j['entries']['sysprep'] = [ordered]@{ recordedBy = 'sysprep@1.1.0'; recordedAt = '2026-01-01T00:00:00Z'; before = [ordered]@{ machineSid = 'S-1-5-21-9-9-9' } }
        Save-CloneJournal -Journal $j
        $null = Invoke-ClonePayload -Name 'sysprep'
        (Get-CloneJournal)['entries']['sysprep']['before']['machineSid'] | Should -Be $global:CloneGuest.MachineSid
    }

    It 'says Sysprep runs as SYSTEM on build 26100 and up (D3)' {
        $global:CloneGuest.Build = 26100
        $r = Invoke-ClonePayload -Name 'sysprep'
        $r.Envelope.facts.sysprepAsSystem | Should -Match 'LocalSystem'
    }

    It 'reports ok and starts nothing when Sysprep already awaits shutdown' {
        $global:CloneGuest.ImageState = 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE'
        $r = Invoke-ClonePayload -Name 'sysprep'
        $r.Envelope.status | Should -Be 'ok'
        $global:CloneGuest.Created.Count | Should -Be 0
    }
}

Describe 'sysprep-logs' {
    It 'reports the logs it finds and stays within its budget (D13)' {
        $r = Invoke-ClonePayload -Name 'sysprep-logs'
        $r.Code | Should -Be 0
        $r.Text.Length | Should -BeLessOrEqual 23900
        @($r.Envelope.facts.missing).Count | Should -BeGreaterThan 0
    }
}

Describe 'sysprep-logs 1.2.0' {
    # Module 1.2.0 (New-CloneRun -OutputToS3, the faster JSON string writer) replaces 1.1.0 for these cases only; the
    # Panther logs are real files under a scratch WINDIR.
    BeforeAll {
        Remove-Module -Name CloneAgent -Force -ErrorAction SilentlyContinue
        Import-Module -Name (Join-Path $global:ClonePsScripts 'agent\1.2.0\CloneAgent.psm1') -Force
        $script:SavedWindir = $env:WINDIR
        $script:Windir = Join-Path $script:Scratch 'Windows'
        $script:Setupact = Join-Path $script:Windir 'System32\Sysprep\Panther\setupact.log'
    }
    AfterAll {
        $env:WINDIR = $script:SavedWindir
        Remove-Module -Name CloneAgent -Force -ErrorAction SilentlyContinue
        Import-Module -Name (Join-Path $global:ClonePsScripts 'agent\1.1.0\CloneAgent.psm1') -Force
    }
    BeforeEach {
        $env:WINDIR = $script:Windir
        $null = New-Item -ItemType Directory -Path (Split-Path -Parent $script:Setupact) -Force
        Remove-Item -LiteralPath $script:Setupact -Force -ErrorAction SilentlyContinue
    }
    AfterEach { $env:WINDIR = $script:SavedWindir }

    It 'writes every shared writer string exactly with the 1.2.0 string writer (envelope vectors)' {
        foreach ($case in $script:Vectors.writerStrings) {
            ConvertTo-CloneJson ([string]$case.input) | Should -BeExactly $case.expected
        }
        $all = -join (0..255 | ForEach-Object { [string][char]$_ }) + [string][char]0x6771 + [string][char]0xD83D + [string][char]0xDE00
        $expected = '"' + (-join (0..255 | ForEach-Object {
                    if ($_ -eq 34) { '\"' } elseif ($_ -eq 92) { '\\' } elseif ($_ -eq 8) { '\b' } elseif ($_ -eq 12) { '\f' }
                    elseif ($_ -eq 10) { '\n' } elseif ($_ -eq 13) { '\r' } elseif ($_ -eq 9) { '\t' }
                    elseif ($_ -lt 32 -or $_ -gt 126) { '\u' + $_.ToString('x4') } else { [string][char]$_ }
                })) + '\u6771\ud83d\ude00"'
        ConvertTo-CloneJson $all | Should -BeExactly $expected
    }

    It 'without Whole returns 1.1.0 tails: lines cut to 300, under 23,900' {
        $long = 'L' * 400
        [IO.File]::WriteAllLines($script:Setupact, [string[]](@(1..500 | ForEach-Object { "line $_ $long" })))
        $r = Invoke-ClonePayload -Name 'sysprep-logs' -Version '1.2.0'
        $r.Code | Should -Be 0
        $r.Text.Length | Should -BeLessOrEqual 23900
        $log = @($r.Envelope.facts.logs)[0]
        @($log.lines)[-1].Length | Should -Be 300
        @($log.lines)[-1] | Should -Match '^line 500 L+\.\.\.$'
    }

    It 'with Whole returns every line whole past 24,000 characters, lines not cut, nothing omitted' {
        $long = 'P' * 400
        $lines = [string[]](@(1..3000 | ForEach-Object { "2026-12-03 03:00:00, Info SYSPRP line $_ tab`there `"q`" $long" }))
        [IO.File]::WriteAllLines($script:Setupact, $lines)
        $r = Invoke-ClonePayload -Name 'sysprep-logs' -Version '1.2.0' -Params @{ Whole = $true }
        $r.Code | Should -Be 0
        $r.Text.Length | Should -BeGreaterThan 24000
        $log = @($r.Envelope.facts.logs | Where-Object { $_.path -eq $script:Setupact })[0]
        $log.omitted | Should -Be 0
        @($log.lines).Count | Should -Be 3000
        @($log.lines)[0] | Should -BeExactly $lines[0]
        @($log.lines)[-1] | Should -BeExactly $lines[-1]
        $hash = Get-CloneSha256Hex -Bytes ([Text.Encoding]::ASCII.GetBytes($r.Json))
        $r.Text | Should -Match ('sha256=' + $hash)
    }

    It 'with Whole keeps the newest lines within MaxChars and counts the rest in omitted' {
        $lines = [string[]](@(1..5000 | ForEach-Object { "Info line $_ " + ('x' * 100) }))
        [IO.File]::WriteAllLines($script:Setupact, $lines)
        $r = Invoke-ClonePayload -Name 'sysprep-logs' -Version '1.2.0' -Params @{ Whole = $true; MaxChars = 100000 }
        $r.Code | Should -Be 0
        $r.Text.Length | Should -BeLessOrEqual 100000
        $log = @($r.Envelope.facts.logs | Where-Object { $_.path -eq $script:Setupact })[0]
        ($log.omitted + @($log.lines).Count) | Should -Be 5000
        $log.omitted | Should -BeGreaterThan 0
        @($log.lines)[-1] | Should -BeExactly $lines[-1]
    }

    It 'with Whole reads a log another process holds open for writing (FileShare ReadWrite)' {
        $fs = New-Object IO.FileStream($script:Setupact, [IO.FileMode]::Create, [IO.FileAccess]::Write, [IO.FileShare]::Read)
        try {
            $bytes = [Text.Encoding]::ASCII.GetBytes("first`r`nsecond`r`n")
            $fs.Write($bytes, 0, $bytes.Length); $fs.Flush()
            $r = Invoke-ClonePayload -Name 'sysprep-logs' -Version '1.2.0' -Params @{ Whole = $true }
        } finally { $fs.Dispose() }
        $r.Code | Should -Be 0
        @(@($r.Envelope.facts.logs | Where-Object { $_.path -eq $script:Setupact })[0].lines) | Should -Be @('first', 'second')
    }

    It 'refuses a budget over 23,900 without OutputToS3 (module 1.2.0, D13)' {
        { New-CloneRun -Payload 'x' -Version '1.2.0' -MaxChars 30000 } | Should -Throw '*OutputToS3*'
        $run = New-CloneRun -Payload 'x' -Version '1.2.0' -MaxChars 30000 -OutputToS3
        Set-CloneFact -Run $run -Name 'big' -Value ('x' * 28000)
        $writer = New-Object IO.StringWriter; $old = [Console]::Out; [Console]::SetOut($writer)
        try { $null = Complete-CloneRun -Run $run } finally { [Console]::SetOut($old) }
        $writer.ToString().Length | Should -BeGreaterThan 24000
        $writer.ToString().Length | Should -BeLessOrEqual 30000
    }
}

Describe 'hostname' {
    It 'renames with exit 3010, and the re-run after the reboot reports ok' {
        $a = Invoke-ClonePayload -Name 'hostname' -Params @{ NewName = 'APP02' }
        $a.Code | Should -Be 3010
        $a.Envelope.status | Should -Be 'reboot-pending'
        $before = Invoke-ClonePayload -Name 'hostname' -Params @{ NewName = 'APP02' }
        $before.Code | Should -Be 3010 -Because 'a re-run before the reboot asks for it again'
        Should -Invoke -CommandName Rename-Computer -Times 1 -Exactly
        Step-CloneTestReboot
        $b = Invoke-ClonePayload -Name 'hostname' -Params @{ NewName = 'APP02' }
        $b.Code | Should -Be 0
        $b.Envelope.status | Should -Be 'ok'
    }

    It 'refuses an active EC2Launch v2 setHostName task instead of looping (D8)' {
        $global:CloneGuest.Ec2LaunchTasks = @('setHostName', 'startSsm')
        $r = Invoke-ClonePayload -Name 'hostname' -Params @{ NewName = 'APP02' }
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'active setHostName task'
        Should -Invoke -CommandName Rename-Computer -Times 0 -Exactly
    }
}

Describe 'time-zone' {
    It 'sets the zone by id, then reports ok' {
        (Invoke-ClonePayload -Name 'time-zone' -Params @{ TimeZoneId = 'Tokyo Standard Time' }).Envelope.status | Should -Be 'changed'
        $global:CloneGuest.TimeZone | Should -Be 'Tokyo Standard Time'
        (Invoke-ClonePayload -Name 'time-zone' -Params @{ TimeZoneId = 'Tokyo Standard Time' }).Envelope.status | Should -Be 'ok'
    }

    It 'refuses an id Windows does not know' {
        $r = Invoke-ClonePayload -Name 'time-zone' -Params @{ TimeZoneId = 'Mars Standard Time' }
        $r.Envelope.errors[0] | Should -Match 'is not a time zone id'
    }
}

Describe 'domain-join' {
    It 'joins with exit 3010, asks for the reboot again before it, and reports ok after it (D10)' {
        $p = @{ DomainName = 'corp.example.com'; CredentialParameter = '/clonectl/join' }
        (Invoke-ClonePayload -Name 'domain-join' -Params $p).Code | Should -Be 3010
        $pending = Invoke-ClonePayload -Name 'domain-join' -Params $p
        $pending.Code | Should -Be 3010 -Because 'Netlogon JoinDomain says the join waits for its reboot'
        Should -Invoke -CommandName Add-Computer -Times 1 -Exactly
        Step-CloneTestReboot
        $after = Invoke-ClonePayload -Name 'domain-join' -Params $p
        $after.Code | Should -Be 0
        $after.Envelope.status | Should -Be 'ok'
    }

    It 'splits the credential without binding the password to a cmdlet (D2)' {
        $null = Invoke-ClonePayload -Name 'domain-join' -Params @{ DomainName = 'corp.example.com'; CredentialParameter = '/clonectl/join' }
        $global:CloneGuest.Passwords['join:CORP\joiner'] | Should -BeExactly 'J0in-Pa55'
        Should -Invoke -CommandName ConvertTo-SecureString -Times 0 -Exactly
        Should -Invoke -CommandName ConvertTo-SecureString -ModuleName CloneAgent -Times 0 -Exactly
    }

    It 'explains computer-account reuse (KB5020276) (D10)' {
        $global:CloneGuest.DomainAccounts = @('WIN-TEST01')
        $r = Invoke-ClonePayload -Name 'domain-join' -Params @{ DomainName = 'corp.example.com'; CredentialParameter = '/clonectl/join' }
        $r.Code | Should -Be 1
        $r.Envelope.errors[0] | Should -Match 'KB5020276'
        $r.Text | Should -Not -Match 'J0in-Pa55'
    }
}

Describe 'verify' {
    It 'closes the sysprep entry once the SID check passed (D6)' {
        $null = Invoke-ClonePayload -Name 'firewall-off'
        $j = Get-CloneJournal
        $j['entries']['sysprep'] = [ordered]@{ recordedBy = 'sysprep@1.1.0'; recordedAt = '2026-01-01T00:00:00Z'; before = [ordered]@{ machineSid = 'S-1-5-21-9-9-9' } }
        Save-CloneJournal -Journal $j
        $r = Invoke-ClonePayload -Name 'verify'
        $r.Envelope.facts.sidChanged | Should -BeTrue
        (Get-CloneJournal)['entries']['sysprep'].Contains('restoredAt') | Should -BeTrue
    }

    It 'treats EC2Launch status 1 on Server 2025 as a warning (D9)' {
        $global:CloneGuest.Build = 26100
        $global:CloneGuest.Ec2LaunchStatus = 1
        $r = Invoke-ClonePayload -Name 'verify'
        $r.Code | Should -Be 0
        $r.Envelope.facts.ec2Launch.warning | Should -Match 'installEgpuManager'
        $global:CloneGuest.Build = 20348
        (Invoke-ClonePayload -Name 'verify').Code | Should -Be 1
    }

    It 'flags a missing pre-existing work user and a service that does not run (D18)' {
        $global:CloneGuest.Users['appadmin'] = @{ enabled = $true; inAdministrators = $true }
        $null = Invoke-ClonePayload -Name 'work-user' -Params @{ UserName = 'appadmin'; PasswordParameter = '/clonectl/pw' }
        $null = Invoke-ClonePayload -Name 'jobs-stop' -Params @{ Services = @('AppSvc') }
        $null = Invoke-ClonePayload -Name 'jobs-restore'
        $global:CloneGuest.Users.Remove('appadmin')
        $global:CloneGuest.Services.AppSvc.Status = 'Stopped'
        $r = Invoke-ClonePayload -Name 'verify'
        ($r.Envelope.errors -join ' ') | Should -Match 'appadmin existed on the source before prep but is missing'
        ($r.Envelope.errors -join ' ') | Should -Match 'AppSvc is Stopped, the source had it Running'
    }
}

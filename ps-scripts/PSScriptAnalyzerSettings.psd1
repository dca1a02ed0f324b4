# PSScriptAnalyzer settings for reviewers on Windows:
#   Invoke-ScriptAnalyzer -Path .\ps-scripts -Recurse -Settings .\ps-scripts\PSScriptAnalyzerSettings.psd1
# The payloads target Windows PowerShell 5.1 (and 4.0 where each page says so); the compatibility rules check that.
@{
    Severity     = @('Error', 'Warning', 'Information')
    IncludeDefaultRules = $true
    # Expected findings, reviewed: in the released 1.0.0 files, PSAvoidUsingConvertToSecureStringWithPlainText in
    # Read-CloneSecureString and domain-join (1.1.0 no longer calls ConvertTo-SecureString: review D2). The verbs of
    # New-CloneRun, Set-CloneFact, Set-CloneAgentContext and Set-CloneJournalRestored change only the run's own
    # state, not the system's (PSUseShouldProcessForStateChangingFunctions). The Windows workflow
    # (.github/workflows/windows-payloads.yml) fails on Error findings in the newest release and the Pester suite.
    ExcludeRules = @()
    Rules        = @{
        PSUseCompatibleSyntax   = @{ Enable = $true; TargetVersions = @('5.1', '4.0') }
        PSUseCompatibleCmdlets  = @{ Compatibility = @('desktop-5.1.14393.206-windows') }
        PSAvoidUsingWriteHost   = @{ Enable = $true }
        PSAvoidUsingPlainTextForPassword = @{ Enable = $true }
        PSAvoidUsingConvertToSecureStringWithPlainText = @{ Enable = $true }
        PSUseShouldProcessForStateChangingFunctions = @{ Enable = $true }
        PSPlaceOpenBrace        = @{ Enable = $true; OnSameLine = $true; NewLineAfter = $true; IgnoreOneLineBlock = $true }
        PSUseConsistentIndentation = @{ Enable = $true; IndentationSize = 4; Kind = 'space' }
    }
}

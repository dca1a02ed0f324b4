# PSScriptAnalyzer settings for reviewers on Windows:
#   Invoke-ScriptAnalyzer -Path .\ps-scripts -Recurse -Settings .\ps-scripts\PSScriptAnalyzerSettings.psd1
# The payloads target Windows PowerShell 5.1 (and 4.0 where each page says so); the compatibility rules check that.
@{
    Severity     = @('Error', 'Warning', 'Information')
    IncludeDefaultRules = $true
    # Expected findings, reviewed: PSAvoidUsingConvertToSecureStringWithPlainText in Read-CloneSecureString and
    # domain-join (the value arrives from Parameter Store as text and is turned into a SecureString at once).
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

import Foundation

/// Checks for single values. Each returns nil when the value is valid, else what would be valid.
enum Check {
    static func matches(_ value: String, _ pattern: String) -> Bool {
        value.range(of: pattern, options: .regularExpression) != nil
    }

    static func resourceId(_ prefix: String) -> (String) -> String? {
        let noun = ["i": "an instance", "subnet": "a subnet", "sg": "a security group"][prefix] ?? "a \(prefix)"
        return { v in matches(v, "^\(prefix)-([0-9a-f]{8}|[0-9a-f]{17})$") ? nil
            : "'\(v)' is not \(noun) id: expected \(prefix)- followed by 8 or 17 hex digits" }
    }

    static func planName(_ v: String) -> String? {
        matches(v, "^[a-z0-9][a-z0-9-]{0,39}$") ? nil
            : "'\(v)' is not a valid plan name: use 1-40 lower-case letters, digits and hyphens, starting with a letter or digit"
    }

    static func region(_ v: String) -> String? {
        matches(v, "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$") ? nil : "'\(v)' is not an AWS region such as ap-northeast-1"
    }

    /// NetBIOS computer name: what Rename-Computer and Sysprep accept without truncation.
    static func hostName(_ v: String) -> String? {
        guard (1...15).contains(v.count) else { return "'\(v)' has \(v.count) characters; a Windows host name has 1 to 15" }
        guard matches(v, "^[A-Za-z0-9-]+$") else { return "'\(v)' may hold only letters, digits and hyphens" }
        guard !v.hasPrefix("-"), !v.hasSuffix("-") else { return "'\(v)' may not start or end with a hyphen" }
        guard !matches(v, "^[0-9]+$") else { return "'\(v)' may not be digits only" }
        return nil
    }

    static func ipv4(_ v: String) -> String? {
        let parts = v.split(separator: ".", omittingEmptySubsequences: false)
        let ok = parts.count == 4 && parts.allSatisfy { p in
            guard let n = Int(p), (0...255).contains(n), String(n) == p else { return false }
            return true
        }
        return ok ? nil : "'\(v)' is not an IPv4 address such as 10.0.1.12"
    }

    static func windowsUserName(_ v: String) -> String? {
        guard (1...20).contains(v.count) else { return "'\(v)' has \(v.count) characters; a local user name has 1 to 20" }
        guard !v.contains(where: { "\"/\\[]:;|=,+*?<>@".contains($0) }), !v.hasSuffix(".") else {
            return "'\(v)' may not contain \" / \\ [ ] : ; | = , + * ? < > @ or end with a period"
        }
        return nil
    }

    /// A Parameter Store name. The value never appears in a plan: only where the guest reads it.
    static func parameterName(_ v: String) -> String? {
        matches(v, "^/?[A-Za-z0-9_.\\-]+(/[A-Za-z0-9_.\\-]+)*$") && v.count <= 1011 ? nil
            : "'\(v.prefix(40))' is not a Parameter Store name such as /clonectl/app01/work-user-password"
    }

    /// A Windows time zone id from the real list (WindowsTimeZones), so a typo fails here and not on a clone.
    static func timeZone(_ v: String) -> String? {
        if v.contains("/") || WindowsTimeZones.zone(v) == nil && ianaHints[v] != nil {
            let mapped = WindowsTimeZones.forIANA(v)?.id ?? ianaHints[v]
            let hint = mapped.map { " (for \(v) that is '\($0)')" } ?? ""
            return "'\(v)' is an IANA name; Windows wants its own time zone id\(hint), see `tzutil /l`"
        }
        guard WindowsTimeZones.zone(v) == nil else { return nil }
        let hint = Suggest.closest(v, in: WindowsTimeZones.all.map(\.id)).map { "did you mean '\($0)'? " } ?? ""
        return "'\(v)' is not a Windows time zone id; \(hint)use an Id from `tzutil /l` (or Get-TimeZone -ListAvailable), such as 'Tokyo Standard Time'"
    }

    /// Services jobs-stop must never stop: Run Command (the SSM agent), EC2Launch/EC2Config, the RPC/COM/WMI
    /// services they need, and what keeps a Windows server reachable and managed (workstation and Netlogon for the
    /// domain, DNS client, the firewall service, the event log, the task scheduler). Stopping one on the source cuts
    /// clonectl off from the production server mid-run (its restore is itself a Run Command). The same list as the
    /// guest's (`$script:ProtectedServices` in ps-scripts/agent/1.1.0/CloneAgent.psm1; a test keeps them one). The
    /// guest also refuses a service that one of these depends on (its stop would cascade): only the instance knows
    /// that graph, so plan validation cannot check it.
    static let protectedServices = ["AmazonSSMAgent", "EC2Launch", "Ec2Config", "Winmgmt", "RpcSs", "RpcEptMapper",
                                    "DcomLaunch", "LanmanWorkstation", "Netlogon", "Dnscache", "mpssvc", "EventLog",
                                    "Schedule"]

    /// The protected services a service name or wildcard pattern (`*`, `?`, as Get-Service takes them) would match.
    static func protectedMatches(_ pattern: String) -> [String] {
        var regex = "^"
        for ch in pattern {
            switch ch {
            case "*": regex += ".*"
            case "?": regex += "."
            default: regex += NSRegularExpression.escapedPattern(for: String(ch))
            }
        }
        regex += "$"
        return protectedServices.filter { $0.range(of: regex, options: [.regularExpression, .caseInsensitive]) != nil }
    }

    static func service(_ v: String) -> String? {
        guard matches(v, "^[A-Za-z0-9_.$*?-]{1,256}$") else { return "'\(v)' is not a service name (the short name, as in Get-Service)" }
        let hit = protectedMatches(v)
        guard hit.isEmpty else {
            let what = hit.count == 1 && hit[0].caseInsensitiveCompare(v) == .orderedSame ? "'\(v)'" : "'\(v)' matches \(hit.joined(separator: ", ")), which"
            return "\(what) must keep running: Run Command, EC2Launch, the RPC/WMI services they need and what keeps the server reachable are protected "
                + "(stopping one cuts clonectl off from the server); remove it from prep.jobs.services"
        }
        return nil
    }

    static let ianaHints: [String: String] = [
        "Asia/Tokyo": "Tokyo Standard Time", "UTC": "UTC", "Etc/UTC": "UTC", "Europe/London": "GMT Standard Time",
        "Europe/Berlin": "W. Europe Standard Time", "Europe/Paris": "Romance Standard Time",
        "America/New_York": "Eastern Standard Time", "America/Chicago": "Central Standard Time",
        "America/Denver": "Mountain Standard Time", "America/Los_Angeles": "Pacific Standard Time",
        "Asia/Seoul": "Korea Standard Time", "Asia/Shanghai": "China Standard Time",
        "Asia/Singapore": "Singapore Standard Time", "Australia/Sydney": "AUS Eastern Standard Time",
        "Asia/Kolkata": "India Standard Time",
    ]

    static func instanceType(_ v: String) -> String? {
        matches(v, "^[a-z][a-z0-9-]*\\.[a-z0-9]+$") ? nil : "'\(v)' is not an instance type such as m5.large"
    }

    static func instanceProfile(_ v: String) -> String? {
        matches(v, "^(arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/.+|[A-Za-z0-9+=,.@_-]{1,128})$") ? nil
            : "'\(v)' is neither an instance profile name nor its ARN"
    }

    static func firewallProfile(_ v: String) -> String? {
        ["Domain", "Private", "Public"].contains(v) ? nil : "'\(v)' is not a firewall profile: use Domain, Private or Public"
    }

    /// Run Command's MaxConcurrency (at least 1) and MaxErrors (at least 0): a number or a percentage.
    static let maxConcurrency = RunCommandRateControl.maxConcurrencyProblem
    static let maxErrors = RunCommandRateControl.maxErrorsProblem

    static func imageName(_ v: String) -> String? {
        let expanded = v.replacingOccurrences(of: "{plan}", with: "p").replacingOccurrences(of: "{runId}", with: "r")
            .replacingOccurrences(of: "{date}", with: "2026-01-01")
        if expanded.contains("{") { return "'\(v)' has an unknown placeholder; use {plan}, {runId} or {date}" }
        guard (3...128).contains(expanded.count), matches(expanded, "^[A-Za-z0-9()\\[\\] ./'@_-]+$") else {
            return "'\(v)' is not a valid AMI name: 3 to 128 letters, digits, spaces and ( ) [ ] . / - ' @ _"
        }
        return nil
    }

    /// `payloads:` entries: a payload name and the MAJOR.MINOR.PATCH version to pin (whether it exists is checked
    /// against the manifest when the run starts).
    static func payloadPin(_ key: String, _ value: String) -> String? {
        guard key.range(of: "^[a-z0-9-]+$", options: .regularExpression) != nil else {
            return "'\(key)' is not a payload name (lower-case letters, digits and hyphens, e.g. hostname)"
        }
        guard value.range(of: "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$", options: .regularExpression) != nil else {
            return "'\(value)' is not a version: pin MAJOR.MINOR.PATCH such as 1.1.0 (see clonectl payloads list)"
        }
        return nil
    }

    /// `documents.mode`: inline (AWS-RunPowerShellScript) or documents (clonectl's published documents).
    static func documentsMode(_ value: String) -> String? {
        Plan.DocumentDelivery.Mode(rawValue: value) == nil ? "'\(value)' is not a mode: use inline or documents" : nil
    }

    /// `documents.prefix`: SSM document names are 3 to 128 of [a-zA-Z0-9_.-]; AWS reserves aws-, amazon and amzn.
    /// 64 characters at most leaves room for the payload names.
    static func documentsPrefix(_ value: String) -> String? {
        guard (1...64).contains(value.count), matches(value, "^[a-zA-Z0-9_.-]+$") else {
            return "'\(value)' is not a document name prefix: 1 to 64 of letters, digits, _ . - (e.g. clonectl-)"
        }
        for reserved in ["aws-", "amazon", "amzn"] where value.lowercased().hasPrefix(reserved) {
            return "'\(value)' starts with \(reserved), which SSM reserves for AWS's own documents; e.g. clonectl-"
        }
        return nil
    }

    static func tag(_ key: String, _ value: String) -> String? {
        guard (1...128).contains(key.count) else { return "tag names have 1 to 128 characters" }
        guard !key.lowercased().hasPrefix("aws:") else { return "tag names may not start with aws: (reserved by AWS)" }
        guard !key.lowercased().hasPrefix("clonectl:") else { return "tag names starting with clonectl: are set by clonectl itself" }
        guard value.count <= 256 else { return "tag values have at most 256 characters" }
        return nil
    }
}

/// Run Command's `MaxConcurrency` and `MaxErrors`, checked with the API's own patterns (SendCommand reference), so
/// a value the plan or a flag accepts is one SendCommand accepts.
public enum RunCommandRateControl {
    /// A count from 1, or a percentage from 1% to 100%.
    public static func maxConcurrencyProblem(_ v: String) -> String? {
        Check.matches(v, "^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$") && v.count <= 7 ? nil
            : "'\(v)' must be a number of instances from 1 (no leading zeros) or a percentage from 1% to 100%, such as 10%"
    }

    /// A count from 0, or a percentage from 0% to 100%.
    public static func maxErrorsProblem(_ v: String) -> String? {
        Check.matches(v, "^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$") && v.count <= 7 ? nil
            : "'\(v)' must be a number of errors from 0 (no leading zeros) or a percentage from 0% to 100%, such as 10%"
    }
}

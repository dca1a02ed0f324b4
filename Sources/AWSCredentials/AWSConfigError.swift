import Foundation

/// Every failure of configuration, credential, region or endpoint resolution.
///
/// One type with a kind (for callers that branch) and a message written for the person at the keyboard: it says what
/// is wrong, where (file and line, environment variable, flag), and how to fix it. Messages never carry secrets.
public struct AWSConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A shared config or credentials file does not parse.
        case syntax
        /// A file exists but cannot be read (permissions, a directory, not UTF-8).
        case unreadableFile
        /// The selected profile is in neither file.
        case unknownProfile
        /// A setting has a value we cannot use (bad integer, unknown retry mode, conflicting keys...).
        case invalidValue
        /// The whole credential chain came up empty.
        case noCredentials
        /// Half a key pair (an access key id without its secret, or the reverse).
        case partialCredentials
        /// `credential_process` failed, timed out or printed something unusable.
        case credentialProcess
        /// A role chain is misconfigured (cycle, too deep, missing source) or the assume-role call failed.
        case assumeRole
        /// The container credentials endpoint is misconfigured or failed.
        case containerCredentials
        /// The EC2 instance metadata service failed after answering.
        case instanceMetadata
        /// No region anywhere.
        case noRegion
        /// A region name that is not shaped like one.
        case invalidRegion
        /// An endpoint URL that is not an absolute http(s) URL.
        case invalidEndpoint
        /// A proxy or CA bundle setting that cannot be used.
        case network
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Text that may be shown to a user: cut to a readable length and stripped of control characters.
func excerpt(_ text: String, limit: Int = 300) -> String {
    let cleaned = String(text.unicodeScalars.map { scalar -> Character in
        (scalar.value < 0x20 && scalar != "\n") || scalar.value == 0x7f ? " " : Character(scalar)
    })
    let trimmed = cleaned.trimmingCharacters(in: .whitespacesAndNewlines)
    return trimmed.count > limit ? String(trimmed.prefix(limit)) + "..." : trimmed
}

/// Environment values the AWS CLI treats as unset when empty.
func nonEmpty(_ value: String?) -> String? {
    guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
    return value.trimmingCharacters(in: .whitespaces)
}

/// The CLI's boolean parsing for settings like AWS_USE_FIPS_ENDPOINT: "true" in any case is true.
func parseBool(_ value: String?) -> Bool {
    value?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
}

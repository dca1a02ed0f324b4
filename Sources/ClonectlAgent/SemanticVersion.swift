/// A payload version, `MAJOR.MINOR.PATCH` (no pre-release tags: every released version is runnable as is).
public struct SemanticVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    /// Parses `1.2.3`; nil for anything else (`1.2`, `v1.2.3`, `01.2.3`, `1.2.3-rc1`).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            // Leading zeros would make two spellings of one version; refuse them.
            guard !part.isEmpty, part.count <= 9, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || !part.hasPrefix("0"), let n = Int(part) else { return nil }
            numbers.append(n)
        }
        (major, minor, patch) = (numbers[0], numbers[1], numbers[2])
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: SemanticVersion, b: SemanticVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}

/// The shapes envelope.md allows in the loader's literals.
public enum PayloadNames {
    /// `^[a-z0-9-]+$`, at most 64 characters, not starting with a hyphen.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && !name.hasPrefix("-")
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    /// `^\d+\.\d+\.\d+$` (see SemanticVersion).
    public static func isValidVersion(_ version: String) -> Bool { SemanticVersion(version) != nil }

    /// Splits `NAME[@VERSION]`; the version is nil when absent (meaning the latest).
    public static func parseReference(_ reference: String) throws(AgentError) -> (name: String, version: String?) {
        let parts = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard isValidName(name) else {
            throw AgentError(.unknownPayload,
                             "'\(reference)' is not a payload reference: use NAME or NAME@VERSION, where NAME is lower-case letters, digits and hyphens (e.g. hostname@1.0.0)")
        }
        guard parts.count == 2 else { return (name, nil) }
        guard isValidVersion(parts[1]) else {
            throw AgentError(.unknownPayload,
                             "'\(parts[1])' in '\(reference)' is not a version: use MAJOR.MINOR.PATCH such as 1.0.0")
        }
        return (name, parts[1])
    }
}

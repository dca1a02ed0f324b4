/// The parameters a loader carries (envelope.md, "The loader"): a JSON object, either plain
/// (`{"NewName": "APP02"}`) or per instance (`{"common": {...}, "byInstance": {"i-0abc...": {...}}}`).
///
/// Secrets never travel: a parameter whose name looks like a secret (Password, Secret, Token, Credential) is
/// refused unless its name ends in `Parameter`, i.e. it names a Parameter Store SecureString the instance reads.
public struct LoaderParams: Equatable, Sendable {
    /// The object sent, as given (member order kept).
    public let json: JSONValue

    public static let empty = LoaderParams(uncheckedJSON: .object([]))

    init(uncheckedJSON: JSONValue) { json = uncheckedJSON }

    /// Plain parameters for every targeted instance.
    public static func plain(_ members: [(String, JSONValue)]) throws(AgentError) -> LoaderParams {
        try LoaderParams(json: .object(members))
    }

    /// Shared parameters plus each instance's own, overlaid by the payload on the instance.
    public static func perInstance(common: [(String, JSONValue)],
                                   byInstance: [(String, [(String, JSONValue)])]) throws(AgentError) -> LoaderParams {
        try LoaderParams(json: .object([
            ("common", .object(common)),
            ("byInstance", .object(byInstance.map { ($0.0, .object($0.1)) })),
        ]))
    }

    /// Checks a parsed object (e.g. from a params file) for shape and secrets.
    public init(json: JSONValue) throws(AgentError) {
        guard let members = json.objectMembers else {
            throw AgentError(.badParameters, "parameters must be a JSON object of name: value")
        }
        if json["byInstance"] != nil || json["common"] != nil {
            for (key, _) in members where key != "common" && key != "byInstance" {
                throw AgentError(.badParameters,
                                 "per-instance parameters hold only 'common' and 'byInstance'; move '\(key)' into 'common'")
            }
            guard let common = (json["common"] ?? .object([])).objectMembers else {
                throw AgentError(.badParameters, "'common' must be an object of name: value")
            }
            try Self.check(common, at: "common")
            guard let byInstance = json["byInstance"]?.objectMembers, !byInstance.isEmpty else {
                throw AgentError(.badParameters, "'byInstance' must be a non-empty object keyed by instance id")
            }
            for (id, value) in byInstance {
                guard Self.isInstanceId(id) else {
                    throw AgentError(.badParameters, "byInstance key '\(id)' is not an instance id (i-0123456789abcdef0)")
                }
                guard let own = value.objectMembers else {
                    throw AgentError(.badParameters, "byInstance.\(id) must be an object of name: value")
                }
                try Self.check(own, at: "byInstance.\(id)")
            }
        } else {
            try Self.check(members, at: nil)
        }
        self.json = json
    }

    /// What one command of a fleet carries: per-instance parameters keep only the entries of `ids` (a command
    /// goes to at most 50 instances, and its loader must stay within Run Command's size limit); plain ones stay
    /// as they are.
    public func restricted(to ids: [String]) -> LoaderParams {
        guard let byInstance = json["byInstance"]?.objectMembers else { return self }
        let wanted = Set(ids)
        return LoaderParams(uncheckedJSON: .object([
            ("common", json["common"] ?? .object([])),
            ("byInstance", .object(byInstance.filter { wanted.contains($0.0) })),
        ]))
    }

    /// The instance ids of a per-instance object, in order; empty for plain parameters.
    public var instanceIds: [String] { json["byInstance"]?.objectMembers?.map(\.0) ?? [] }

    /// Compact JSON as it travels (base64 of these UTF-8 bytes goes into the loader).
    public var encoded: String { CanonicalJSON.encode(json) }

    static func isInstanceId(_ id: String) -> Bool {
        let hex = id.dropFirst(2)
        return id.hasPrefix("i-") && (hex.count == 8 || hex.count == 17)
            && hex.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// PowerShell parameter names; the error names the key only, never its value.
    static func check(_ members: [(String, JSONValue)], at scope: String?) throws(AgentError) {
        var seen = Set<String>()
        for (key, value) in members {
            let place = scope.map { "\(key) (in \($0))" } ?? key
            guard let first = key.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII,
                  key.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") })
            else {
                throw AgentError(.badParameters, "parameter name '\(key)' is not a PowerShell parameter name (letters, digits, _)")
            }
            guard seen.insert(key.lowercased()).inserted else {
                throw AgentError(.badParameters, "parameter \(place) is given twice (PowerShell names ignore case)")
            }
            if looksLikeSecret(key), value != .null {
                throw AgentError(.badParameters,
                                 "parameter \(place) looks like a secret, and secrets never travel in a command: store it in Parameter Store as a SecureString and pass its name as '\(key)Parameter' (the instance reads it with its own role)")
            }
        }
    }

    static let secretWords = ["password", "passwd", "secret", "token", "credential", "apikey", "privatekey"]

    /// `Password`, `AdminPassword`, `ApiToken`, `Credential`: yes. `PasswordParameter`, `CredentialParameter`: no.
    public static func looksLikeSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        if lower.hasSuffix("parameter") { return false }
        return secretWords.contains { lower.contains($0) }
    }
}

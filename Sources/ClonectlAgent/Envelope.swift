import ClonectlCrypto

/// The result envelope (agent-docs/envelope.md): one JSON line between BEGIN and END marker lines.
public struct Envelope: Equatable, Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case ok, changed, failed
        case rebootPending = "reboot-pending"
    }

    public static let formatVersion: Int64 = 1
    public static let beginLine = "-----BEGIN CLONECTL RESULT v1-----"
    public static let endPrefix = "-----END CLONECTL RESULT sha256="
    public static let endSuffix = "-----"

    public var payload: String
    public var version: String
    public var payloadSha256: String
    public var nonce: String
    public var instanceId: String
    public var status: Status
    /// `{"item": "...", "from": ..., "to": ...}` objects.
    public var changed: [JSONValue]
    /// A JSON object, payload-specific.
    public var facts: JSONValue
    public var errors: [String]
    public var logTail: [String]
    public var startedAt: String
    public var finishedAt: String

    public init(payload: String, version: String, payloadSha256: String, nonce: String, instanceId: String,
                status: Status, changed: [JSONValue] = [], facts: JSONValue = .object([]), errors: [String] = [],
                logTail: [String] = [], startedAt: String, finishedAt: String) {
        self.payload = payload
        self.version = version
        self.payloadSha256 = payloadSha256
        self.nonce = nonce
        self.instanceId = instanceId
        self.status = status
        self.changed = changed
        self.facts = facts
        self.errors = errors
        self.logTail = logTail
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// What a caller acts on, for holding many at once: status, errors and the named facts. What is dropped
    /// (`changed`, `logTail`, the other facts) stays in the ledger's copy of the whole envelope.
    public func slimmed(keepingFacts keys: Set<String>) -> Envelope {
        var slim = self
        slim.changed = []
        slim.logTail = []
        slim.facts = .object(facts.objectMembers?.filter { keys.contains($0.0) } ?? [])
        return slim
    }

    /// The members in the spec table's order: the order the PowerShell module writes them.
    public var json: JSONValue {
        .object([
            ("v", .int(Self.formatVersion)),
            ("payload", .string(payload)),
            ("version", .string(version)),
            ("payloadSha256", .string(payloadSha256)),
            ("nonce", .string(nonce)),
            ("instanceId", .string(instanceId)),
            ("status", .string(status.rawValue)),
            ("changed", .array(changed)),
            ("facts", facts),
            ("errors", .array(errors.map(JSONValue.string))),
            ("logTail", .array(logTail.map(JSONValue.string))),
            ("startedAt", .string(startedAt)),
            ("finishedAt", .string(finishedAt)),
        ])
    }

    /// The envelope as a payload prints it, with `lineEnding` ("\r\n" on Windows) after each of the three lines.
    public func render(lineEnding: String = "\r\n") -> String {
        Self.wrap(jsonLine: CanonicalJSON.encode(json), lineEnding: lineEnding)
    }

    /// BEGIN, the JSON line, END with the JSON line's SHA-256: also used to build vectors from hand-made lines.
    public static func wrap(jsonLine: String, lineEnding: String = "\r\n") -> String {
        let hash = Hex.encode(Crypto.sha256(jsonLine))
        return beginLine + lineEnding + jsonLine + lineEnding + endPrefix + hash + endSuffix + lineEnding
    }

    /// Reads a parsed JSON line; the error names the first member that is missing or of the wrong type.
    public init(json: JSONValue) throws(AgentError) {
        func fail(_ member: String, _ want: String) -> AgentError {
            AgentError(.badJSON, "envelope member '\(member)' is missing or not \(want)")
        }
        func string(_ key: String) throws(AgentError) -> String {
            guard let s = json[key]?.stringValue else { throw fail(key, "a string") }
            return s
        }
        func strings(_ key: String) throws(AgentError) -> [String] {
            guard let items = json[key]?.arrayValue else { throw fail(key, "an array of strings") }
            var out: [String] = []
            for item in items {
                guard let s = item.stringValue else { throw fail(key, "an array of strings") }
                out.append(s)
            }
            return out
        }
        guard json.objectMembers != nil else { throw AgentError(.badJSON, "the envelope is not a JSON object") }
        guard json["v"]?.intValue == Self.formatVersion else { throw fail("v", "1") }
        let statusText = try string("status")
        guard let status = Status(rawValue: statusText) else {
            throw fail("status", "one of ok, changed, failed, reboot-pending")
        }
        guard let changed = json["changed"]?.arrayValue else { throw fail("changed", "an array") }
        guard let facts = json["facts"], facts.objectMembers != nil else { throw fail("facts", "an object") }
        self.init(payload: try string("payload"), version: try string("version"),
                  payloadSha256: try string("payloadSha256"), nonce: try string("nonce"),
                  instanceId: try string("instanceId"), status: status, changed: changed, facts: facts,
                  errors: try strings("errors"), logTail: try strings("logTail"),
                  startedAt: try string("startedAt"), finishedAt: try string("finishedAt"))
    }
}

/// Everything that can go wrong on the controller's half of the agent side, as one error type.
///
/// The `kind` is for code (tests, exit codes); the `message` is for the operator and always says what to fix.
/// Messages never carry a parameter's value, only its name, so a secret typed by mistake is not echoed.
public struct AgentError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// ps-scripts could not be found (no --payloads, no installed copy, no checkout).
        case payloadsNotFound
        /// manifest.json is missing, not JSON, or a member is missing or malformed.
        case badManifest
        /// NAME[@VERSION] does not name a manifest entry.
        case unknownPayload
        /// A file listed in the manifest cannot be read.
        case unreadableFile
        /// A file's bytes differ from its manifest hash (changed without a version bump).
        case hashMismatch
        /// Loader parameters are malformed or look like secrets.
        case badParameters
        /// The loader template or the finished loader breaks a rule (placeholders, `{{`, size).
        case badLoader
        /// zlib refused to compress or decompress.
        case gzip
        /// JSON text could not be parsed.
        case badJSON
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

import ClonectlCrypto
import Foundation

/// What the ledger keeps about one sent loader, so a step can be re-run exactly and its envelope checked.
public struct LoaderRecord: Equatable, Sendable {
    public let payload: String
    public let version: String
    public let payloadSha256: String
    public let moduleVersion: String
    public let moduleSha256: String
    public let loaderVersion: String
    public let nonce: String
    /// The parameters JSON as sent (secret-shaped parameters are refused before this point).
    public let paramsJSON: String
}

/// The loader text for `commands` plus its record.
public struct LoaderCommand: Sendable {
    public let text: String
    public let record: LoaderRecord
    /// Characters in `text` (ASCII, so also its bytes).
    public var size: Int { text.utf8.count }
}

/// Fills the released loader template (envelope.md, "The loader") with one payload, its module and parameters.
public enum LoaderBuilder {
    /// Conservative: an SSM document is limited to 64 KB and parameters count toward the request.
    public static let maxCharacters = 48_000

    public enum Placeholder: String, CaseIterable, Sendable {
        case payload = "__CLONECTL_PAYLOAD__"
        case version = "__CLONECTL_VERSION__"
        case nonce = "__CLONECTL_NONCE__"
        case moduleSha256 = "__CLONECTL_MODULE_SHA256__"
        case payloadSha256 = "__CLONECTL_PAYLOAD_SHA256__"
        case moduleBase64 = "__CLONECTL_MODULE_B64__"
        case scriptBase64 = "__CLONECTL_SCRIPT_B64__"
        case paramsBase64 = "__CLONECTL_PARAMS_B64__"
    }

    /// Resolves `reference` in `store` and builds its loader, every file hash-checked on the way.
    public static func build(store: PayloadStore, reference: String, params: LoaderParams,
                             nonce: String? = nil) throws(AgentError) -> LoaderCommand {
        let entry = try store.resolve(reference)
        let script = try store.payloadBytes(entry)
        let module = try store.module(for: entry)
        let template = try store.loaderTemplate(for: entry)
        return try render(template: template.bytes, loaderVersion: template.file.version, payload: entry.name,
                          version: entry.version, script: script, moduleVersion: module.file.version,
                          module: module.bytes, params: params, nonce: nonce ?? newNonce())
    }

    /// The pure part: template and bytes in, loader text out. Hashes are of the uncompressed bytes.
    public static func render(template: [UInt8], loaderVersion: String, payload: String, version: String,
                              script: [UInt8], moduleVersion: String, module: [UInt8], params: LoaderParams,
                              nonce: String) throws(AgentError) -> LoaderCommand {
        guard PayloadNames.isValidName(payload) else {
            throw AgentError(.badLoader, "payload name '\(payload)' must match ^[a-z0-9-]+$")
        }
        guard PayloadNames.isValidVersion(version) else {
            throw AgentError(.badLoader, "\(payload): version '\(version)' must be MAJOR.MINOR.PATCH")
        }
        guard isNonce(nonce) else { throw AgentError(.badLoader, "a nonce is 32 lower-case hex characters") }
        let paramsJSON = params.encoded
        let text = try fill(template: template, loaderVersion: loaderVersion, payload: payload, version: version,
                            script: script, module: module, nonce: nonce,
                            paramsBase64: Data(paramsJSON.utf8).base64EncodedString(), allowedReferences: [])
        let size = text.utf8.count
        guard size <= maxCharacters else {
            throw AgentError(.badLoader, "loader for \(payload)@\(version) is \(size) characters, over the \(maxCharacters) limit; shorten the payload or the agent module, or split the payload")
        }
        let record = LoaderRecord(payload: payload, version: version, payloadSha256: Hex.encode(Crypto.sha256(script)),
                                  moduleVersion: moduleVersion, moduleSha256: Hex.encode(Crypto.sha256(module)),
                                  loaderVersion: loaderVersion, nonce: nonce, paramsJSON: paramsJSON)
        return LoaderCommand(text: text, record: record)
    }

    /// Fills every placeholder of the template. `nonce` and `paramsBase64` are the values as they go into the
    /// text: real ones for an inline loader, or SSM parameter references (`{{ Nonce }}`) for a Command document,
    /// which are then the only `{{` the text may hold (`allowedReferences`).
    static func fill(template: [UInt8], loaderVersion: String, payload: String, version: String, script: [UInt8],
                     module: [UInt8], nonce: String, paramsBase64: String,
                     allowedReferences: [String]) throws(AgentError) -> String {
        guard let templateText = String(validating: template, as: UTF8.self) else {
            throw AgentError(.badLoader, "loader template \(loaderVersion) is not UTF-8 text")
        }
        for p in Placeholder.allCases where !templateText.contains(p.rawValue) {
            throw AgentError(.badLoader, "loader template \(loaderVersion) lacks the placeholder \(p.rawValue); fix the template and release a new loader version")
        }
        let values: [Placeholder: String] = [
            .payload: payload, .version: version, .nonce: nonce,
            .moduleSha256: Hex.encode(Crypto.sha256(module)), .payloadSha256: Hex.encode(Crypto.sha256(script)),
            .moduleBase64: Data(try Gzip.compress(module)).base64EncodedString(),
            .scriptBase64: Data(try Gzip.compress(script)).base64EncodedString(),
            .paramsBase64: paramsBase64,
        ]
        var text = templateText
        for p in Placeholder.allCases { text = text.replacingOccurrences(of: p.rawValue, with: values[p]!) }
        if text.contains("__CLONECTL_") {
            throw AgentError(.badLoader, "loader template \(loaderVersion) has an unknown __CLONECTL_ placeholder left after filling; this clonectl does not know it")
        }
        // SSM reads {{ name }} as a parameter reference and would rewrite the command.
        var rest = text
        for reference in allowedReferences { rest = rest.replacingOccurrences(of: reference, with: "") }
        if rest.contains("{{") {
            throw AgentError(.badLoader, "loader for \(payload)@\(version) contains '{{', which SSM would read as a parameter reference; remove it from the loader template")
        }
        return text
    }

    /// 128 bits from the system CSPRNG (getrandom(2) on Linux), as 32 lower-case hex characters.
    public static func newNonce() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        return Hex.encode(bytes)
    }

    public static func isNonce(_ s: String) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

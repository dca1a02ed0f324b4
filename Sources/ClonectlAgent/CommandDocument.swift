import ClonectlCrypto
import Foundation

/// One payload version as an SSM Command document (schemaVersion 2.2, one aws:runPowerShellScript step): the
/// released loader with the module and the payload embedded, exactly as an inline loader carries them, except that
/// the nonce and the parameters are the document's two parameters. Each has an `allowedPattern` (lower-case hex;
/// base64) so no value can close the loader's single-quoted string and inject script text. The content is a pure
/// function of the released bytes, so its SHA-256 is what SSM must report for the version (DescribeDocument
/// `Hash`) and what SendCommand pins as `DocumentHash`.
public struct CommandDocument: Sendable, Equatable {
    /// The SSM document name (`clonectl-prep`).
    public let name: String
    /// The document's VersionName: the payload version.
    public let versionName: String
    public let payload: String
    public let payloadSha256: String
    /// The JSON content sent to CreateDocument / UpdateDocument.
    public let content: String
    /// SHA-256 (lower-case hex) of the content's UTF-8 bytes.
    public var sha256: String { Hex.encode(Crypto.sha256(Array(content.utf8))) }
    public var size: Int { content.utf8.count }

    /// SSM's limit on a document's content (64 KB).
    public static let maxContentBytes = 64 * 1024
    public static let defaultPrefix = "clonectl-"
    /// The document's two parameters, as SendCommand names them.
    public static let nonceParameter = "Nonce"
    public static let paramsParameter = "Params"
    public static let noncePattern = "^[0-9a-f]{32}$"
    public static let paramsPattern = "^[A-Za-z0-9+/]*={0,2}$"
    /// The step's own timeout (aws:runPowerShellScript `timeoutSeconds`), as AWS-RunPowerShellScript's default.
    public static let executionTimeoutSeconds = 3600

    /// `prefix` + payload name, checked against SSM's name rules (3..128 of [a-zA-Z0-9_.-], not starting with
    /// aws-, amazon or amzn).
    public static func name(prefix: String, payload: String) throws(AgentError) -> String {
        let name = prefix + payload
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
        }
        guard allowed, (3...128).contains(name.count) else {
            throw AgentError(.badLoader, "document name '\(name)' is not an SSM document name (3 to 128 of letters, digits, _ - .); fix documents.prefix")
        }
        let lower = name.lowercased()
        for reserved in ["aws-", "amazon", "amzn"] where lower.hasPrefix(reserved) {
            throw AgentError(.badLoader, "document name '\(name)' starts with '\(reserved)', which SSM reserves; choose another documents.prefix")
        }
        return name
    }

    /// The document for `entry` from the payload store, every file hash-checked on the way.
    public static func build(store: PayloadStore, entry: Manifest.Payload, prefix: String = defaultPrefix) throws(AgentError) -> CommandDocument {
        let script = try store.payloadBytes(entry)
        let module = try store.module(for: entry)
        let template = try store.loaderTemplate(for: entry)
        return try render(name: try name(prefix: prefix, payload: entry.name), template: template.bytes,
                          loaderVersion: template.file.version, payload: entry.name, version: entry.version,
                          script: script, moduleVersion: module.file.version, module: module.bytes)
    }

    /// The pure part: bytes in, document out.
    public static func render(name: String, template: [UInt8], loaderVersion: String, payload: String, version: String,
                              script: [UInt8], moduleVersion: String, module: [UInt8]) throws(AgentError) -> CommandDocument {
        guard PayloadNames.isValidName(payload), PayloadNames.isValidVersion(version) else {
            throw AgentError(.badLoader, "payload '\(payload)@\(version)' is not NAME@MAJOR.MINOR.PATCH")
        }
        let nonceRef = "{{ \(nonceParameter) }}", paramsRef = "{{ \(paramsParameter) }}"
        let text = try LoaderBuilder.fill(template: template, loaderVersion: loaderVersion, payload: payload,
                                          version: version, script: script, module: module, nonce: nonceRef,
                                          paramsBase64: paramsRef, allowedReferences: [nonceRef, paramsRef])
        let payloadSha = Hex.encode(Crypto.sha256(script))
        // One line per element, as the console shows a runCommand; the agent joins them with newlines again.
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { JSONValue.string(String($0)) }
        let content: JSONValue = .object([
            ("schemaVersion", .string("2.2")),
            ("description", .string("clonectl payload \(payload)@\(version) (SHA-256 \(payloadSha)), module \(moduleVersion), loader \(loaderVersion). Published by `clonectl documents publish`; the guest checks the payload's hash before it runs.")),
            ("parameters", .object([
                (nonceParameter, .object([
                    ("type", .string("String")),
                    ("description", .string("The run's nonce: 32 lower-case hex characters, echoed in the result envelope.")),
                    ("allowedPattern", .string(noncePattern)),
                ])),
                (paramsParameter, .object([
                    ("type", .string("String")),
                    ("description", .string("The payload's parameters: base64 of a JSON object (never a secret: secrets are Parameter Store names).")),
                    ("allowedPattern", .string(paramsPattern)),
                ])),
            ])),
            ("mainSteps", .array([.object([
                ("action", .string("aws:runPowerShellScript")),
                ("name", .string("clonectl")),
                ("precondition", .object([("StringEquals", .array([.string("platformType"), .string("Windows")]))])),
                ("inputs", .object([
                    ("timeoutSeconds", .string(String(executionTimeoutSeconds))),
                    ("runCommand", .array(lines)),
                ])),
            ])])),
        ])
        let document = CommandDocument(name: name, versionName: version, payload: payload, payloadSha256: payloadSha,
                                       content: CanonicalJSON.encode(content))
        guard document.size <= maxContentBytes else {
            throw AgentError(.badLoader, "document for \(payload)@\(version) is \(document.size) bytes, over SSM's \(maxContentBytes)-byte limit for a document; shorten the payload or the agent module, or split the payload")
        }
        return document
    }

    /// SendCommand's Parameters for one command of this document.
    public static func parameters(nonce: String, params: LoaderParams) -> [String: [String]] {
        [nonceParameter: [nonce], paramsParameter: [Data(params.encoded.utf8).base64EncodedString()]]
    }

    /// The document's ARN (an account's own document; `partition` from the region).
    public static func arn(region: String, account: String, name: String) -> String {
        let partition = region.hasPrefix("cn-") ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws"
        return "arn:\(partition):ssm:\(region):\(account):document/\(name)"
    }
}

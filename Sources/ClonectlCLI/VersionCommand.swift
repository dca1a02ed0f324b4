import ArgumentParser
import ClonectlAgent
import ClonectlCrypto
import Foundation

/// `clonectl version`: what `--version` prints, plus the payload set this binary would send right now (where it was
/// found and its manifest hash), so an incident report can say exactly which code ran on the guests.
public struct VersionCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, commit, build date, and the payload set shipped and found (manifest SHA-256).")

    @OptionGroup public var payloads: PayloadsOptions
    @OptionGroup public var outputOptions: OutputOptions

    public init() {}

    var outputFormat: OutputFormat { outputOptions.format }

    public func run() throws {
        let found = Self.foundPayloads(payloads)
        Output.success(Self.members(found: found), text: Self.text(found: found))
    }

    /// The payload set in use: its folder and manifest hash, or why none was found (not an error for `version`).
    public enum Found: Sendable {
        case payloads(path: String, manifestSHA256: String, count: Int)
        case missing(String)
    }

    public static func foundPayloads(_ options: PayloadsOptions) -> Found {
        do {
            let store = try options.store()
            let data = try Data(contentsOf: store.root.appendingPathComponent("manifest.json"))
            return .payloads(path: store.root.path, manifestSHA256: Hex.encode(Crypto.sha256(data)),
                             count: store.manifest.payloads.count)
        } catch {
            return .missing("\(error)")
        }
    }

    public static func text(found: Found) -> String {
        var text = BuildInfo.text + "\n"
        switch found {
        case let .payloads(path, sha, count):
            let note = !BuildInfo.isRelease ? "" : sha == BuildInfo.payloadManifestSHA256 ? " (the shipped set)" : " (NOT the shipped set)"
            text += "payloads in use: \(path), \(count) payload versions, manifest.json sha256 \(sha)\(note)\n"
        case let .missing(why):
            text += "payloads in use: none found: \(why)\n"
        }
        return text
    }

    /// The JSON document's members (controller/schemas/version.schema.json).
    public static func members(found: Found) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("version", .string(BuildInfo.version)), ("commit", .string(BuildInfo.commit)),
            ("buildDate", .string(BuildInfo.buildDate)), ("release", .bool(BuildInfo.isRelease)),
            ("shippedPayloadManifestSHA256", .string(BuildInfo.payloadManifestSHA256)),
        ]
        switch found {
        case let .payloads(path, sha, count):
            members.append(("payloads", .object([("path", .string(path)), ("manifestSHA256", .string(sha)),
                                                 ("count", .int(Int64(count)))])))
        case let .missing(why):
            members.append(("payloads", .object([("error", .string(why))])))
        }
        return members
    }
}

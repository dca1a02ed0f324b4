import ArgumentParser
import ClonectlAgent

/// `clonectl payloads show NAME[@VERSION]`: one release, checked against its hash, with its parameters.
public struct PayloadsShowCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one payload version: manifest entry, hashes, module, parameters.")

    @OptionGroup public var payloads: PayloadsOptions
    @Argument(help: ArgumentHelp("The payload, e.g. hostname or hostname@1.0.0 (default: the latest version).",
                                 valueName: "name[@version]"))
    public var reference: String
    @Flag(help: "Also print the script text.")
    public var source = false
    @OptionGroup public var outputOptions: OutputOptions

    public init() {}

    public var output: OutputFormat { outputOptions.format }
    var outputFormat: OutputFormat { output }

    public func validate() throws {
        do { _ = try PayloadNames.parseReference(reference) } catch { throw ValidationError(error.message) }
    }

    public func run() throws {
        let store = try payloads.store()
        if Output.isJSON {
            Output.success([("payload", try Self.json(store, reference: reference, source: source))], text: "")
        } else {
            let text = try Self.render(store, reference: reference, source: source, format: .text)
            Output.success([], text: text)
        }
    }

    static func json(_ store: PayloadStore, reference: String, source: Bool) throws -> JSONValue {
        try JSONParser.parse(try render(store, reference: reference, source: source, format: .json))
    }

    public static func render(_ store: PayloadStore, reference: String, source: Bool, format: OutputFormat) throws -> String {
        let entry = try store.resolve(reference)
        let bytes = try store.payloadBytes(entry)  // refuses a changed file, so what is shown is what would run
        let module = try store.module(for: entry)
        let script = String(decoding: bytes, as: UTF8.self)
        let parameters = ScriptParameter.parse(script: script)
        let versions = store.versions(of: entry.name).map(\.version)
        switch format {
        case .json:
            var members: [(String, JSONValue)] = [
                ("name", .string(entry.name)), ("version", .string(entry.version)),
                ("latest", .bool(versions.last == entry.version)), ("description", .string(entry.description)),
                ("path", .string(entry.path)), ("sha256", .string(entry.sha256)), ("bytes", .int(Int64(bytes.count))),
                ("module", .object([("version", .string(module.file.version)), ("path", .string(module.file.path)),
                                    ("sha256", .string(module.file.sha256))])),
                ("versions", .array(versions.map(JSONValue.string))),
                ("parameters", .array(parameters.map { p in
                    .object([("name", .string(p.name)), ("type", p.type.map(JSONValue.string) ?? .null),
                             ("mandatory", .bool(p.mandatory)), ("attributes", .array(p.attributes.map(JSONValue.string))),
                             ("default", p.defaultValue.map(JSONValue.string) ?? .null)])
                })),
            ]
            if source { members.append(("source", .string(script))) }
            return CanonicalJSON.encode(.object(members)) + "\n"
        case .text:
            var text = "\(entry.reference)\(versions.last == entry.version ? " (latest)" : "")\n"
            text += "  description: \(entry.description)\n"
            text += "  path:        \(entry.path) (\(bytes.count) bytes)\n"
            text += "  sha256:      \(entry.sha256) (checked)\n"
            text += "  module:      \(module.file.version) \(module.file.path) sha256 \(module.file.sha256)\n"
            text += "  versions:    \(versions.joined(separator: ", "))\n"
            text += "  parameters:\(parameters.isEmpty ? " none found in param()" : "")\n"
            for p in parameters {
                var line = "    -\(p.name)"
                if let type = p.type { line += " [\(type)]" }
                if p.mandatory { line += " mandatory" }
                if let d = p.defaultValue { line += " = \(d)" }
                if !p.attributes.isEmpty { line += "  " + p.attributes.joined(separator: " ") }
                text += line + "\n"
            }
            if source { text += "\n" + script + (script.hasSuffix("\n") ? "" : "\n") }
            return text
        }
    }
}

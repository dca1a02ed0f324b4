import ArgumentParser
import ClonectlAgent

/// `clonectl payloads list`: every payload with its latest and all released versions.
public struct PayloadsListCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the released payloads (name, latest version, all versions, description).")

    @OptionGroup public var payloads: PayloadsOptions
    @OptionGroup public var outputOptions: OutputOptions

    public init() {}

    public var output: OutputFormat { outputOptions.format }
    var outputFormat: OutputFormat { output }

    public func run() throws {
        let store = try payloads.store()
        Output.success([("root", .string(store.root.path)), ("payloads", Self.items(store))],
                       text: Self.render(store, format: .text))
    }

    /// One object per payload name, sorted by name; versions oldest first.
    static func items(_ store: PayloadStore) -> JSONValue {
        let names = Set(store.manifest.payloads.map(\.name)).sorted()
        return .array(names.map { name in
            let versions = store.versions(of: name)
            return JSONValue.object([
                ("name", .string(name)), ("latest", .string(versions.last!.version)),
                ("versions", .array(versions.map { .string($0.version) })),
                ("description", .string(versions.last!.description)),
                ("superseded", .object(versions.compactMap { v in v.superseded.map { (v.version, JSONValue.string($0)) } })),
            ])
        })
    }

    /// One row per payload name, sorted by name; versions oldest first. Superseded versions are marked `*` and their
    /// reasons follow the table (json: `superseded`, version -> reason).
    public static func render(_ store: PayloadStore, format: OutputFormat) -> String {
        let names = Set(store.manifest.payloads.map(\.name)).sorted()
        let rows = names.map { name in (name, store.versions(of: name)) }
        switch format {
        case .json:
            return CanonicalJSON.encode(items(store)) + "\n"
        case .text:
            let width = max(4, names.map(\.count).max() ?? 0) + 2
            var text = PayloadsText.pad("NAME", width) + PayloadsText.pad("LATEST", 9) + PayloadsText.pad("VERSIONS", 20) + "DESCRIPTION\n"
            for (name, versions) in rows {
                text += PayloadsText.pad(name, width) + PayloadsText.pad(versions.last!.version, 9)
                    + PayloadsText.pad(versions.map { $0.version + ($0.superseded == nil ? "" : "*") }.joined(separator: ","), 20)
                    + versions.last!.description + "\n"
            }
            // One note per reason (a release usually supersedes every payload of the version before it).
            var reasons: [(String, [String])] = []
            for (name, versions) in rows {
                for v in versions {
                    guard let reason = v.superseded else { continue }
                    if let i = reasons.firstIndex(where: { $0.0 == reason }) { reasons[i].1.append("\(name)@\(v.version)") }
                    else { reasons.append((reason, ["\(name)@\(v.version)"])) }
                }
            }
            for (reason, refs) in reasons {
                text += "\n* superseded: \(refs.joined(separator: ", ")): \(reason)\n"
            }
            return text
        }
    }
}

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
            ])
        })
    }

    /// One row per payload name, sorted by name; versions oldest first.
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
                    + PayloadsText.pad(versions.map(\.version).joined(separator: ","), 20) + versions.last!.description + "\n"
            }
            return text
        }
    }
}

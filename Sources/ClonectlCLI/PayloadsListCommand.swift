import ArgumentParser
import ClonectlAgent

/// `clonectl payloads list`: every payload with its latest and all released versions.
public struct PayloadsListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the released payloads (name, latest version, all versions, description).")

    @OptionGroup public var payloads: PayloadsOptions
    @Option(help: "Output format: text (a table) or json (an array, stable for scripts).")
    public var output: OutputFormat = .text

    public init() {}

    public func run() throws {
        PayloadsText.write(Self.render(try payloads.store(), format: output))
    }

    /// One row per payload name, sorted by name; versions oldest first. Superseded versions are marked `*` and their
    /// reasons follow the table (json: `superseded`, version -> reason).
    public static func render(_ store: PayloadStore, format: OutputFormat) -> String {
        let names = Set(store.manifest.payloads.map(\.name)).sorted()
        let rows = names.map { name in (name, store.versions(of: name)) }
        switch format {
        case .json:
            let items = rows.map { name, versions in
                JSONValue.object([
                    ("name", .string(name)), ("latest", .string(versions.last!.version)),
                    ("versions", .array(versions.map { .string($0.version) })),
                    ("description", .string(versions.last!.description)),
                    ("superseded", .object(versions.compactMap { v in v.superseded.map { (v.version, JSONValue.string($0)) } })),
                ])
            }
            return CanonicalJSON.encode(.array(items)) + "\n"
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

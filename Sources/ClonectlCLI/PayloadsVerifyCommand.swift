import ArgumentParser
import ClonectlAgent
import Foundation

/// `clonectl payloads verify`: every released file against its manifest hash; exits 1 naming each bad file.
public struct PayloadsVerifyCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every payload, module and loader against manifest.json (exit 1 if any changed without a version bump).")

    @OptionGroup public var payloads: PayloadsOptions
    @OptionGroup public var outputOptions: OutputOptions

    public init() {}

    var outputFormat: OutputFormat { outputOptions.format }

    public func run() throws {
        let store = try payloads.store()
        let audit = PayloadAudit.run(store)
        let (text, ok) = Self.report(audit, root: store.root.path)
        let members: [(String, JSONValue)] = [
            ("root", .string(store.root.path)), ("checked", .int(Int64(audit.checked))),
            ("problems", .array(audit.problems.map { .object([("path", .string($0.path)), ("message", .string($0.message))]) })),
        ]
        guard ok else {
            throw CLIFailure(code: "payloads-changed", message: text.trimmingCharacters(in: .newlines),
                             exitCode: CLIFailure.Exit.failed, result: members)
        }
        Output.success(members, text: text)
    }

    public static func report(_ audit: PayloadAudit, root: String) -> (text: String, ok: Bool) {
        guard !audit.ok else { return ("\(root): \(audit.checked) files match manifest.json\n", true) }
        var text = audit.problems.map { "\(root)/\($0.path): \($0.message)\n" }.joined()
        text += "\(audit.problems.count) problem(s) in \(root); released bytes must never change: bump the version instead\n"
        return (text, false)
    }
}

import ArgumentParser
import ClonectlAgent

/// `clonectl payloads verify`: every released file against its manifest hash; exits 1 naming each bad file.
public struct PayloadsVerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every payload, module and loader against manifest.json (exit 1 if any changed without a version bump).")

    @OptionGroup public var payloads: PayloadsOptions

    public init() {}

    public func run() throws {
        let store = try payloads.store()
        let (text, ok) = Self.report(PayloadAudit.run(store), root: store.root.path)
        if ok { PayloadsText.write(text) } else { PayloadsText.writeError(text) }
        if !ok { throw ExitCode.failure }
    }

    public static func report(_ audit: PayloadAudit, root: String) -> (text: String, ok: Bool) {
        guard !audit.ok else { return ("\(root): \(audit.checked) files match manifest.json\n", true) }
        var text = audit.problems.map { "\(root)/\($0.path): \($0.message)\n" }.joined()
        text += "\(audit.problems.count) problem(s) in \(root); released bytes must never change: bump the version instead\n"
        return (text, false)
    }
}

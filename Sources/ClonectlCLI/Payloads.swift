import ArgumentParser
import ClonectlAgent
import Foundation

/// `clonectl payloads ...`: the released PowerShell payloads this clonectl can send (ps-scripts/manifest.json).
public struct PayloadsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "payloads",
        abstract: "List, show, verify and render the versioned PowerShell payloads.",
        discussion: """
            Payloads are found in --payloads DIR, else $CLONECTL_PAYLOADS, else <prefix>/share/clonectl/ps-scripts \
            beside an installed <prefix>/bin/clonectl, else the ps-scripts folder of the source checkout the binary \
            was built in. Every file is checked against its SHA-256 in manifest.json before it is used.
            """,
        subcommands: [PayloadsListCommand.self, PayloadsShowCommand.self, PayloadsVerifyCommand.self,
                      PayloadsRenderCommand.self]
    )
    public init() {}
}

/// `--payloads DIR`, shared by every payloads subcommand (and later by the workflow commands).
public struct PayloadsOptions: ParsableArguments {
    @Option(name: .customLong("payloads"), help: ArgumentHelp(
        "The ps-scripts folder holding manifest.json (default: $CLONECTL_PAYLOADS, then the installed or checkout copy).",
        valueName: "dir"))
    public var directory: String?

    public init() {}

    /// Locates and opens the store; its errors already say what to fix.
    public func store(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PayloadStore {
        try PayloadStore(root: try PayloadStore.locate(explicit: directory, environment: environment))
    }
}

/// Small text helpers shared by the payloads subcommands.
enum PayloadsText {
    /// Pads `s` to `width` columns (ASCII names and versions).
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}

import ArgumentParser
import ClonectlAgent
import Foundation
import Synchronization

/// `--output text|json`: json is one document on standard output, for scripts (controller/schemas/).
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json

    /// The format when no `--output` is given: CLONECTL_OUTPUT, else text.
    static func defaulted(_ flag: OutputFormat?, environment: [String: String] = ProcessInfo.processInfo.environment) -> OutputFormat {
        flag ?? environment["CLONECTL_OUTPUT"].flatMap { OutputFormat(rawValue: $0.lowercased()) } ?? .text
    }
}

/// `--output`, for commands that need neither AWS nor the ledger.
public struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("output"), help: "Output format: text, or json (one document on standard output, for scripts; default: CLONECTL_OUTPUT, else text).")
    public var flag: OutputFormat?

    public init() {}

    public var format: OutputFormat { OutputFormat.defaulted(flag) }
}

/// A command that says which format its result takes (every command of clonectl).
protocol SelectsOutput {
    var outputFormat: OutputFormat { get }
}

/// The one place a command's result leaves the process. In JSON mode every invocation writes exactly one document
/// on standard output, on success and on failure:
///
///     {"schemaVersion": 1, "command": "run", "ok": true, ...the command's members...}
///     {"schemaVersion": 1, "command": "run", "ok": false, "error": {"code": "...", "message": "...", "exitCode": 1}, ...}
///
/// Progress, notes and logs go to standard error in both modes. The schemas are controller/schemas/*.schema.json.
enum Output {
    static let schemaVersion = 1

    private struct State {
        var format: OutputFormat = .text
        var command = "clonectl"
        var emitted = false
    }
    private static let state = Mutex(State())

    /// Set once, before the command runs (by `CLIMain`).
    static func begin(command: String, format: OutputFormat) {
        state.withLock { $0.format = format; $0.command = command }
    }

    static var format: OutputFormat { state.withLock { $0.format } }
    static var isJSON: Bool { format == .json }
    static var command: String { state.withLock { $0.command } }

    /// Ends a command that succeeded: the JSON document with `result`'s members, or `text` on standard output.
    static func success(_ result: [(String, JSONValue)], text: @autoclosure () -> String) {
        if isJSON {
            emit(document(ok: true, result: result, error: nil))
        } else {
            let t = text()
            if !t.isEmpty { Console.write(t.hasSuffix("\n") ? t : t + "\n", to: .out) }
        }
    }

    /// Reports a failure: the JSON document with its `error` object (unless a document was already written), or
    /// the text of what was done and the message on standard error.
    static func failure(_ failure: CLIFailure) {
        if isJSON {
            var error = JSONObject([("code", .string(failure.code)), ("message", .string(failure.message)),
                                    ("exitCode", .int(Int64(failure.exitCode)))])
            for (k, v) in failure.details { error.set(k, v) }
            emit(document(ok: false, result: failure.result, error: error.value))
        } else {
            if let text = failure.text, !text.isEmpty { Console.write(text.hasSuffix("\n") ? text : text + "\n", to: .out) }
            Console.err(failure.message)
        }
    }

    /// The document around `result`: schemaVersion, command and ok first, then error, then the command's members.
    static func document(ok: Bool, result: [(String, JSONValue)], error: JSONValue?) -> JSONValue {
        var doc = JSONObject([("schemaVersion", .int(Int64(schemaVersion))), ("command", .string(command)), ("ok", .bool(ok))])
        if let error { doc.set("error", error) }
        for (k, v) in result where !["schemaVersion", "command", "ok", "error"].contains(k) { doc.set(k, v) }
        return doc.value
    }

    /// Writes the document; a second one in the same process is a bug, and is dropped so stdout stays one document.
    private static func emit(_ doc: JSONValue) {
        let first = state.withLock { s -> Bool in
            defer { s.emitted = true }
            return !s.emitted
        }
        guard first else {
            Console.err("internal error: a second JSON document was suppressed")
            return
        }
        Console.write(JSONText.pretty(doc) + "\n", to: .out)
    }

    static var hasEmitted: Bool { state.withLock { $0.emitted } }
}

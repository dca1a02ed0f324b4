import ArgumentParser
import AWSCore
import AWSCredentials
import ClonectlAgent
import ClonectlLedger
import ClonectlPlan

/// How a command fails: a stable code for scripts (the `error.code` of the JSON document), a message for the person
/// at the keyboard that says what to fix, the exit code, and whatever the command already knows (a run's steps, the
/// checks that passed) to put beside the error in the JSON document.
struct CLIFailure: Error, CustomStringConvertible {
    var code: String
    var message: String
    var exitCode: Int32
    /// Members the JSON document carries besides `error` (e.g. a failed run's summary).
    var result: [(String, JSONValue)] = []
    /// Extra members of the `error` object (e.g. a plan's problems with file, line and field).
    var details: [(String, JSONValue)] = []
    /// The text-mode report of what was done before the failure, printed on standard output before the error.
    var text: String?

    var description: String { message }

    /// The documented exit codes (README, "Exit codes").
    enum Exit {
        static let failed: Int32 = 1
        static let usage: Int32 = 64
        static let planInvalid: Int32 = 65
        static let locked: Int32 = 75
        static let config: Int32 = 78
        static let interrupted: Int32 = 130
    }

    static func failed(_ code: String, _ message: String) -> CLIFailure {
        CLIFailure(code: code, message: message, exitCode: Exit.failed)
    }

    static func usage(_ message: String) -> CLIFailure {
        CLIFailure(code: "usage", message: message, exitCode: Exit.usage)
    }

    static func config(_ message: String) -> CLIFailure {
        CLIFailure(code: "config", message: message, exitCode: Exit.config)
    }

    static func locked(_ message: String) -> CLIFailure {
        CLIFailure(code: "locked", message: message, exitCode: Exit.locked)
    }

    static func interrupted(_ message: String = "interrupted by Ctrl-C or SIGTERM") -> CLIFailure {
        CLIFailure(code: "interrupted", message: message, exitCode: Exit.interrupted)
    }

    /// Every problem of a plan, each with file, line, column and field in the JSON document.
    static func planInvalid(_ error: PlanError) -> CLIFailure {
        CLIFailure(code: "plan-invalid", message: "\(error)", exitCode: Exit.planInvalid, details: [
            ("problems", .array(error.issues.map { issue in
                .object([("file", .string(issue.file)), ("line", .integer(issue.line)), ("column", .integer(issue.column)),
                         ("field", .string(issue.field)), ("message", .string(issue.message))])
            })),
        ])
    }

    /// The failure a library error stands for, or nil for ArgumentParser's own errors (help, parse errors).
    static func from(_ error: Error) -> CLIFailure? {
        switch error {
        case let failure as CLIFailure: return failure
        case let error as AWSConfigError: return .config(error.description)
        case let error as PlanError: return .planInvalid(error)
        case is CancellationError: return .interrupted()
        case let error as LedgerError:
            switch error {
            case .locked: return .locked("\(error)")
            case .notFound: return .failed("not-found", "\(error)")
            default: return .failed("ledger", "\(error)")
            }
        case let error as AWSError: return .failed("aws", "\(error)")
        case let error as AgentError: return .failed("payloads", error.message)
        default: return nil
        }
    }

    /// How an error reads in a message: never a Swift type name such as `CancellationError()`.
    static func describe(_ error: Error) -> String {
        if error is CancellationError { return "interrupted by Ctrl-C or SIGTERM" }
        if let failure = from(error) { return failure.message }
        return "\(error)"
    }
}

import AWSCore
import ClonectlLedger
import ClonectlPlan
import Foundation

/// One stage of the clone procedure, with its undo beside it (Packer's multistep shape, typed).
public protocol WorkflowStep: Sendable {
    var name: StepName { get }
    /// What the step would do: the AWS calls and guest steps, for `--dry-run`. Makes no call.
    func describe(plan: Plan, state: RunState) -> [String]
    /// Does the step. It checks `state` and the ledger first, so running it again after a crash finishes the job
    /// without repeating what already happened.
    func run(_ context: StepContext, _ state: inout RunState) async throws
    /// Undoes what this step created, when the operator chose `--on-error cleanup` or runs `clonectl cleanup`.
    func cleanup(_ context: StepContext, _ state: RunState) async throws
}

/// What a step can use besides its own clients.
public struct StepContext: Sendable {
    public let runId: String
    public let plan: Plan
    public let ledger: Ledger
    public let reporter: any WorkflowReporter
    /// The operator asked for this step again (`--rerun`): guest steps are sent anew, not taken from the ledger.
    public var rerun = false

    public init(runId: String, plan: Plan, ledger: Ledger, reporter: any WorkflowReporter) {
        self.runId = runId
        self.plan = plan
        self.ledger = ledger
        self.reporter = reporter
    }

    /// Saves the state now, before the step goes on: call it right after AWS returned an id.
    public func checkpoint(_ state: RunState) throws {
        try ledger.saveRunState(runId, json: try RunStateCoding.encode(state))
    }

    public func progress(_ step: StepName, _ message: String) {
        reporter.report(.progress(step, message))
        try? ledger.event(runId: runId, step: step.rawValue, message)
    }

    /// Runs `body`, a wait of up to `limit` on AWS (an image pending, an instance stopping, agents coming online, a
    /// guest command). The reporter is told what it waits for ("i-... to stop after Sysprep"), so the operator sees
    /// the time against the limit instead of a frozen line. With a `kind`, the wait is also recorded in the ledger
    /// with its target, start, end and outcome, so the run report draws it as a wait; a ledger error never fails it.
    @discardableResult
    public func waiting<T>(_ step: StepName, _ kind: String? = nil, _ target: String = "", for what: String,
                           limit: Duration?, _ body: () async throws -> T) async throws -> T {
        reporter.report(.waitStarted(step, what, limit))
        try? ledger.event(runId: runId, step: step.rawValue,
                          "waiting for \(what)\(limit.map { " (at most \(WaitText.limit($0)))" } ?? "")")
        defer { reporter.report(.waitEnded(step)) }
        let seq = kind.flatMap { try? ledger.waitStarted(runId: runId, step: step.rawValue, kind: $0, target: target) }
        do {
            let value = try await body()
            if let seq { try? ledger.waitFinished(seq, outcome: "done") }
            return value
        } catch {
            let timedOut = (error as? AWSError)?.code == "WaiterTimeout"
            if let seq { try? ledger.waitFinished(seq, outcome: timedOut ? "timeout" : "failed") }
            throw error
        }
    }
}

enum RunStateCoding {
    static func encode(_ state: RunState) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(state), as: UTF8.self)
    }

    static func decode(_ json: String) throws -> RunState {
        try JSONDecoder().decode(RunState.self, from: Data(json.utf8))
    }
}

/// Progress as the workflow makes it; the CLI turns it into a live line on a terminal or one line per event.
public enum WorkflowEvent: Sendable {
    case stepStarted(StepName)
    case stepSkipped(StepName, String)
    case stepSucceeded(StepName, Duration)
    case stepFailed(StepName, String)
    case progress(StepName, String)
    case dryRun(StepName, [String])
    case cleanupStarted(StepName)
    case cleanupFailed(StepName, String)
    /// A wait began: what for, and the most it may take (nil: no limit of its own).
    case waitStarted(StepName, String, Duration?)
    case waitEnded(StepName)
}

/// Durations as operators read them in a wait line: "45m", "2h", "90s", "3m12s".
public enum WaitText {
    public static func limit(_ d: Duration) -> String {
        let s = Int(d.components.seconds)
        if s >= 3600, s % 3600 == 0 { return "\(s / 3600)h" }
        if s >= 60, s % 60 == 0 { return "\(s / 60)m" }
        return elapsed(d)
    }

    public static func elapsed(_ d: Duration) -> String {
        let s = max(0, Int(d.components.seconds))
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m\(String(format: "%02d", s % 60))s" }
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

public protocol WorkflowReporter: Sendable {
    func report(_ event: WorkflowEvent)
}

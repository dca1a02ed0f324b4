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

    /// Runs `body`, a wait on AWS (an image pending, an instance stopping, agents coming online), recorded in the
    /// ledger with its start, end and outcome so the run report draws it as a wait. A ledger error never fails the wait.
    @discardableResult
    public func waiting<T>(_ step: StepName, _ kind: String, _ target: String, _ body: () async throws -> T) async throws -> T {
        let seq = try? ledger.waitStarted(runId: runId, step: step.rawValue, kind: kind, target: target)
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

    public func progress(_ step: StepName, _ message: String) {
        reporter.report(.progress(step, message))
        try? ledger.event(runId: runId, step: step.rawValue, message)
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
}

public protocol WorkflowReporter: Sendable {
    func report(_ event: WorkflowEvent)
}

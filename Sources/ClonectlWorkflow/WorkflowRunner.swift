import ClonectlLedger
import ClonectlPlan
import Foundation

/// Runs the steps of one run in order, records each in the ledger, and resumes where the ledger says it stopped.
public struct WorkflowRunner: Sendable {
    public enum OnError: String, Sendable, CaseIterable {
        /// Stop and keep everything, so `clonectl run` can resume (the default).
        case abort
        /// Undo what the run created, newest first.
        case cleanup
    }

    public struct Options: Sendable {
        public var from: StepName?
        public var until: StepName?
        /// Steps to run again although the ledger says they succeeded.
        public var rerun: Set<StepName> = []
        public var dryRun = false
        public var onError: OnError = .abort
        public init() {}
    }

    public let steps: [any WorkflowStep]
    public let ledger: Ledger
    public let reporter: any WorkflowReporter

    public init(steps: [any WorkflowStep], ledger: Ledger, reporter: any WorkflowReporter) {
        self.steps = steps
        self.ledger = ledger
        self.reporter = reporter
    }

    /// Runs (or resumes) `run`. Returns the final state; throws the failing step's error after recording it.
    @discardableResult
    public func execute(run: RunRecord, plan: Plan, options: Options) async throws -> RunState {
        var state = try ledger.runState(run.id).map(RunStateCoding.decode) ?? RunState(sourceInstanceId: plan.source.instanceId)
        let selected = steps.filter { step in
            (options.from.map { step.name >= $0 } ?? true) && (options.until.map { step.name <= $0 } ?? true)
        }
        if options.dryRun {
            for step in selected { reporter.report(.dryRun(step.name, step.describe(plan: plan, state: state))) }
            return state
        }
        let context = StepContext(runId: run.id, plan: plan, ledger: ledger, reporter: reporter)
        let done = Set(try ledger.steps(runId: run.id).filter { $0.status == "succeeded" }.map(\.name))
        var ran: [any WorkflowStep] = []
        for step in selected {
            if done.contains(step.name.rawValue), !options.rerun.contains(step.name) {
                reporter.report(.stepSkipped(step.name, "already done in this run"))
                continue
            }
            try ledger.stepStarted(runId: run.id, step: step.name.rawValue)
            reporter.report(.stepStarted(step.name))
            ran.append(step)
            let started = ContinuousClock.now
            var stepContext = context
            stepContext.rerun = options.rerun.contains(step.name)
            do {
                try Task.checkCancellation()
                try await step.run(stepContext, &state)
                try context.checkpoint(state)
                try ledger.stepFinished(runId: run.id, step: step.name.rawValue, status: "succeeded")
                reporter.report(.stepSucceeded(step.name, ContinuousClock.now - started))
            } catch {
                try? context.checkpoint(state)
                let interrupted = error is CancellationError
                let message = interrupted ? "interrupted by Ctrl-C or SIGTERM; run the plan again to resume" : "\(error)"
                try? ledger.stepFinished(runId: run.id, step: step.name.rawValue, status: "failed", error: message)
                try? ledger.event(runId: run.id, level: "error", step: step.name.rawValue, message)
                reporter.report(.stepFailed(step.name, message))
                if !interrupted, options.onError == .cleanup {
                    // Undo the whole run, not only this invocation's part: every step the ledger has a record of
                    // (a resumed run's earlier steps made images and instances too).
                    let recorded = Set((try? ledger.steps(runId: run.id))?.map(\.name) ?? [])
                    let ranNames = Set(ran.map(\.name.rawValue))
                    let undo = steps.filter { recorded.contains($0.name.rawValue) || ranNames.contains($0.name.rawValue) }
                    if await cleanUp(undo, context: context, state: state) {
                        try? ledger.markRunCleaned(run.id, how: "--on-error cleanup")
                        throw error
                    }
                }
                try? ledger.setRunStatus(run.id, interrupted ? "interrupted" : "failed")
                throw error
            }
        }
        // Finished when every step of the workflow has succeeded, whichever part this invocation ran.
        let succeeded = Set(try ledger.steps(runId: run.id).filter { $0.status == "succeeded" }.map(\.name))
        if steps.allSatisfy({ succeeded.contains($0.name.rawValue) }) {
            try ledger.setRunStatus(run.id, "succeeded")
        } else {
            // Stopped where --until (or --from with a gap) said: nothing runs any more, so the run is not
            // "running"; it is resumable like an interrupted one.
            try ledger.setRunStatus(run.id, "interrupted")
            try ledger.event(runId: run.id, "stopped after \(selected.last?.name.rawValue ?? "-") as asked (--until/--from); run the plan again to go on")
        }
        return state
    }

    /// Undoes `steps` newest first. A failing undo is reported and the rest still run: leaving one thing behind is
    /// better than leaving everything.
    /// Returns whether every undo succeeded (only then is the run recorded as cleaned).
    @discardableResult
    public func cleanUp(_ steps: [any WorkflowStep], context: StepContext, state: RunState) async -> Bool {
        var clean = true
        for step in steps.reversed() {
            reporter.report(.cleanupStarted(step.name))
            do {
                try await step.cleanup(context, state)
                // What this step made is gone: it no longer counts as done (a resume would redo it, not skip it).
                try? ledger.markStepUndone(runId: context.runId, step: step.name.rawValue, how: "cleanup")
            } catch {
                clean = false
                reporter.report(.cleanupFailed(step.name, "\(error)"))
                try? ledger.event(runId: context.runId, level: "error", step: step.name.rawValue, "cleanup failed: \(error)")
            }
        }
        return clean
    }
}

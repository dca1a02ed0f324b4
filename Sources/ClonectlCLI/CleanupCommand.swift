import ArgumentParser
import Foundation
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl cleanup RUN`: removes what a run left behind. By default the intermediate parts (the work copy, and the
/// source image when the plan says so); with `--all`, everything the run created, newest first, including the master
/// image and the clones.
public struct CleanupCommand: AsyncParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "cleanup", abstract: "Remove what a run created: the work copy (default) or everything (--all).")

    @Argument(help: "The run id (see `clonectl status`).") public var runId: String
    @Flag(help: "Undo the whole run, newest first: clones, master image, work copy, source image; start the source if the run stopped it.")
    public var all = false
    @Flag(help: "Confirm --all.") public var yes = false
    @OptionGroup public var options: ControllerOptions
    public init() {}

    public func validate() throws {
        if all && !yes { throw ValidationError("--all terminates the clones and deregisters the master image of the run; add --yes to confirm") }
    }

    var outputFormat: OutputFormat { options.output }

    public func run() async throws {
        let controller = try Controller.open(options)
        defer { controller.close() }
        let ledger = controller.ledger
        let record = try ledger.run(id: runId)
        let plan: Plan
        do { plan = try PlanLoader.load(path: record.planPath) } catch {
            throw CLIFailure.failed("plan-unreadable", "the run's plan \(record.planPath) cannot be read (\(CLIFailure.describe(error))); cleanup needs it: put the plan back at that path")
        }
        let lock = "plan:\(plan.name)"
        try ledger.acquireLock(lock, runId: record.id)  // a LedgerError.locked leaves as exit 75
        defer { try? ledger.releaseLock(lock) }
        let state = try ledger.runState(record.id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
            ?? RunState(sourceInstanceId: plan.source.instanceId)
        let reporter = ConsoleReporter(quiet: options.quiet, format: options.output)
        defer { reporter.finish() }
        let steps = Workflow.steps(services: controller.services, guest: controller.guest, payloadVersions: "")
        let runner = WorkflowRunner(steps: steps, ledger: ledger, reporter: reporter)
        let context = StepContext(runId: record.id, plan: plan, ledger: ledger, reporter: reporter)
        if all {
            await runner.cleanUp(steps, context: context, state: state)
            try ledger.setRunStatus(record.id, "cleaned")
        } else {
            var s = state
            var p = plan
            p.cleanup.terminateWorkCopy = true
            let ctx = StepContext(runId: record.id, plan: p, ledger: ledger, reporter: reporter)
            try await CleanupStep(services: controller.services).run(ctx, &s)
        }
        reporter.finish()
        let left = try ledger.resources(runId: record.id)
        Output.success([
            ("run", .string(record.id)), ("all", .bool(all)), ("status", .string((try? ledger.run(id: record.id).status) ?? record.status)),
            ("left", .array(left.map { .object([("kind", .string($0.kind)), ("id", .string($0.id)), ("step", .string($0.step))]) })),
        ], text: left.isEmpty ? "\(record.id): nothing of this run is left" :
              "\(record.id) still has: " + left.map { "\($0.kind) \($0.id)" }.joined(separator: ", "))
    }
}

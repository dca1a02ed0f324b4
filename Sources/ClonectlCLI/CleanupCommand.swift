import ArgumentParser
import Foundation
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl cleanup RUN`: removes what a run left behind. By default the intermediate parts (the work copy, and the
/// source image when the plan says so); with `--all`, everything the run created, newest first, including the master
/// image and the clones.
public struct CleanupCommand: AsyncParsableCommand {
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

    public func run() async throws {
        let controller = try Controller.open(options)
        defer { controller.close() }
        let ledger = controller.ledger
        let record = try ledger.run(id: runId)
        let plan: Plan
        do { plan = try PlanLoader.load(path: record.planPath) } catch {
            throw ValidationError("the run's plan \(record.planPath) cannot be read (\(error)); cleanup needs it")
        }
        let lock = "plan:\(plan.name)"
        do { try ledger.acquireLock(lock, runId: record.id) } catch let error as LedgerError {
            TerminalText.writeError("\(error)\n")
            throw ExitCodes.locked
        }
        defer { try? ledger.releaseLock(lock) }
        let state = try ledger.runState(record.id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
            ?? RunState(sourceInstanceId: plan.source.instanceId)
        let reporter = ConsoleReporter(quiet: options.quiet)
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
        let left = try ledger.resources(runId: record.id)
        print(left.isEmpty ? "\(record.id): nothing of this run is left" :
              "\(record.id) still has: " + left.map { "\($0.kind) \($0.id)" }.joined(separator: ", "))
    }
}

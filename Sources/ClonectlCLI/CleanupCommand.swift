import ArgumentParser
import Foundation
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow
#if canImport(Glibc)
import Glibc
#endif

/// `clonectl cleanup RUN`: removes what a run left behind. By default the intermediate parts (the work copy, and the
/// source image when the plan says so); with `--all`, everything the run created, newest first, including the master
/// image and the clones. It first lists what it will delete, as AWS reports it (only resources carrying the run's
/// tags), then asks on a terminal; `--dry-run` only lists, `--yes` confirms for scripts.
public struct CleanupCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cleanup", abstract: "Remove what a run created: the work copy (default) or everything (--all).",
        discussion: """
            Lists what it will delete first. Only instances and images that AWS reports with this run's tags
            (clonectl:run and clonectl:role) are deleted; an id that only the ledger names is left alone.
            On a terminal it asks before deleting; elsewhere pass --yes. --dry-run lists and deletes nothing.
            """)

    @Argument(help: "The run id (see `clonectl status`).") public var runId: String
    @Flag(help: "Undo the whole run, newest first: clones, master image, work copy, source image; start the source if the run stopped it.")
    public var all = false
    @Flag(help: "Delete without asking (for scripts).") public var yes = false
    @Flag(name: .customLong("dry-run"), help: "Only list what would be deleted.") public var dryRun = false
    @OptionGroup public var options: ControllerOptions
    public init() {}

    public func run() async throws {
        let ledger = try options.openLedger()
        let record = try ledger.run(id: runId)
        ledger.close()
        let plan: Plan
        do { plan = try PlanLoader.load(path: record.planPath) } catch {
            throw ValidationError("the run's plan \(record.planPath) cannot be read (\(error)); cleanup needs it")
        }
        let controller = try Controller.open(options, plan: (plan.region, record.planPath))
        defer { controller.close() }
        let state = try controller.ledger.runState(record.id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
            ?? RunState(sourceInstanceId: plan.source.instanceId)

        let preview = try await CleanupPreview.build(all: all, plan: plan, state: state, runId: record.id,
                                                     ec2: controller.services.ec2)
        let what = all ? "everything \(record.id) created" : "the intermediate parts of \(record.id)"
        print(preview.items.isEmpty ? "Cleanup of \(what): nothing to delete" : "Cleanup of \(what) would:\n\(preview.text)")
        if dryRun { return }
        if preview.toDelete > 0, !yes {
            guard isatty(0) == 1, isatty(2) == 1 else {
                TerminalText.writeError("nothing deleted: add --yes to confirm (no terminal to ask on)\n")
                throw ExitCode.validationFailure
            }
            TerminalText.writeError("Delete these \(preview.toDelete)? [y/N] ")
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else {
                print("nothing deleted")
                throw ExitCodes.failed
            }
        }
        try await perform(plan: plan, record: record, state: state, controller: controller)
    }

    func perform(plan: Plan, record: RunRecord, state: RunState, controller: Controller) async throws {
        let ledger = controller.ledger
        let lock = "plan:\(plan.name)"
        do { try ledger.acquireLock(lock, runId: record.id) } catch let error as LedgerError {
            TerminalText.writeError("\(error)\n")
            throw ExitCodes.locked
        }
        defer { try? ledger.releaseLock(lock) }
        let reporter = ConsoleReporter(quiet: options.quiet)
        let steps = Workflow.steps(services: controller.services, guest: controller.guest, payloadVersions: "")
        let runner = WorkflowRunner(steps: steps, ledger: ledger, reporter: reporter)
        var failed = false
        if all {
            if await runner.cleanUp(steps, context: StepContext(runId: record.id, plan: plan, ledger: ledger, reporter: reporter),
                                    state: state) {
                try ledger.markRunCleaned(record.id, how: "cleanup --all")
                do {
                    try await SourceClaim(ec2: controller.services.ec2).release(plan.source.instanceId, runId: record.id, state: "cleaned")
                } catch {
                    TerminalText.writeError("warning: the source's clonectl:state tag could not be set to cleaned: \(error)\n")
                }
            } else {
                failed = true
            }
        } else {
            var s = state
            var p = plan
            p.cleanup.terminateWorkCopy = true
            let ctx = StepContext(runId: record.id, plan: p, ledger: ledger, reporter: reporter)
            do { try await CleanupStep(services: controller.services).run(ctx, &s) } catch {
                TerminalText.writeError("\(error)\n")
                failed = true
            }
        }
        let left = try ledger.resources(runId: record.id)
        print(left.isEmpty ? "\(record.id): nothing of this run is left" :
              "\(record.id) still has: " + left.map { "\($0.kind) \($0.id)" }.joined(separator: ", "))
        if failed {
            TerminalText.writeError("cleanup of \(record.id) did not finish (see above; `clonectl status \(record.id)`); the run is not recorded as cleaned\n")
            throw ExitCodes.failed
        }
    }
}

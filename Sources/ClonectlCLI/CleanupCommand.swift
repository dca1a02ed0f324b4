import ArgumentParser
import Foundation
import ClonectlAgent
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
public struct CleanupCommand: AsyncParsableCommand, SelectsOutput {
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

    var outputFormat: OutputFormat { options.output }

    public func run() async throws {
        let ledger = try options.openLedger()
        let record = try ledger.run(id: runId)
        ledger.close()
        let plan: Plan
        do { plan = try PlanLoader.load(path: record.planPath) } catch {
            throw CLIFailure.failed("plan-unreadable", "the run's plan \(record.planPath) cannot be read (\(CLIFailure.describe(error))); cleanup needs it: put the plan back at that path")
        }
        let controller = try Controller.open(options, plan: (plan.region, record.planPath))
        defer { controller.close() }
        let state = try controller.ledger.runState(record.id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
            ?? RunState(sourceInstanceId: plan.source.instanceId)

        let preview = try await CleanupPreview.build(all: all, plan: plan, state: state, runId: record.id,
                                                     ec2: controller.services.ec2)
        let what = all ? "everything \(record.id) created" : "the intermediate parts of \(record.id)"
        let listing = preview.items.isEmpty ? "Cleanup of \(what): nothing to delete" : "Cleanup of \(what) would:\n\(preview.text)"
        let would: [(String, JSONValue)] = [
            ("run", .string(record.id)), ("all", .bool(all)),
            ("would", .array(preview.items.map { .object([("action", .string($0.action)), ("skipped", .text($0.skipped))]) })),
        ]
        if dryRun {
            Output.success(would + [("dryRun", .bool(true))], text: listing)
            return
        }
        // The list comes before the question (text mode); in JSON it is part of the document.
        if !Output.isJSON { Console.out(listing) }
        if preview.toDelete > 0, !yes {
            guard isatty(0) == 1, isatty(2) == 1 else {
                throw CLIFailure(code: "usage", message: "nothing deleted: add --yes to confirm (no terminal to ask on)",
                                 exitCode: CLIFailure.Exit.usage, result: would)
            }
            Console.write("Delete these \(preview.toDelete)? [y/N] ", to: .err)
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else {
                throw CLIFailure(code: "declined", message: "nothing deleted", exitCode: CLIFailure.Exit.failed, result: would)
            }
        }
        try await perform(plan: plan, record: record, state: state, controller: controller, would: would)
    }

    func perform(plan: Plan, record: RunRecord, state: RunState, controller: Controller,
                 would: [(String, JSONValue)]) async throws {
        let ledger = controller.ledger
        let lock = "plan:\(plan.name)"
        try ledger.acquireLock(lock, runId: record.id)  // a LedgerError.locked leaves as exit 75
        defer { try? ledger.releaseLock(lock) }
        let reporter = ConsoleReporter(quiet: options.quiet, format: options.output)
        defer { reporter.finish() }
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
                    Console.err("warning: the source's clonectl:state tag could not be set to cleaned: \(CLIFailure.describe(error))")
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
                Console.err(CLIFailure.describe(error))
                failed = true
            }
        }
        reporter.finish()
        let left = try ledger.resources(runId: record.id)
        let members = would + [
            ("status", .string((try? ledger.run(id: record.id).status) ?? record.status)),
            ("left", .array(left.map { .object([("kind", .string($0.kind)), ("id", .string($0.id)), ("step", .string($0.step))]) })),
        ]
        let text = left.isEmpty ? "\(record.id): nothing of this run is left" :
            "\(record.id) still has: " + left.map { "\($0.kind) \($0.id)" }.joined(separator: ", ")
        guard !failed else {
            throw CLIFailure(code: "cleanup-failed",
                             message: "cleanup of \(record.id) did not finish (see above; `clonectl status \(record.id)`); the run is not recorded as cleaned",
                             exitCode: CLIFailure.Exit.failed, result: members, text: text)
        }
        Output.success(members, text: text)
    }
}

import ArgumentParser
import Foundation
import ClonectlCrypto
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl run PLAN`: the whole procedure, resumable. A second `run` of the same plan continues its unfinished run.
public struct RunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run (or resume) the clone workflow of a plan.",
        discussion: """
            Steps, in order: \(StepName.allCases.map(\.rawValue).joined(separator: ", ")).
            A run that stopped (crash, Ctrl-C, failure) resumes where it stopped when you run the same plan again;
            nothing already created is created again and no verified guest step is repeated (unless --rerun).
            """)

    @Argument(help: "The plan file (YAML).") public var plan: String
    @OptionGroup public var options: ControllerOptions
    @Option(help: "Start at this step.") public var from: StepName?
    @Option(help: "Stop after this step.") public var until: StepName?
    @Option(help: "Run this step again although it succeeded (repeatable).") public var rerun: [StepName] = []
    @Flag(help: "Print every AWS call and guest step it would make, and make none.") public var dryRun = false
    @Flag(help: "Start a new run even if this plan has an unfinished one.") public var new = false
    @Option(name: .customLong("on-error"), help: "abort (keep everything, resume later) or cleanup (undo this run).")
    public var onError: WorkflowRunner.OnError = .abort
    @Flag(name: .customLong("break-lock"), help: "Take the plan's lock even if another controller seems to hold it.")
    public var breakLock = false

    public init() {}

    public func validate() throws {
        if let from, let until, until < from {
            throw ValidationError("--until \(until.rawValue) comes before --from \(from.rawValue)")
        }
    }

    public func run() async throws {
        let plan: Plan
        do { plan = try PlanLoader.load(path: self.plan) } catch let error as PlanError {
            TerminalText.writeError("\(error)\n")
            throw ExitCodes.planInvalid
        }
        let planSha = Hex.encode(Crypto.sha256((try? Data(contentsOf: URL(fileURLWithPath: self.plan))) ?? Data()))
        let controller = try Controller.open(options)
        defer { controller.close() }
        let ledger = controller.ledger
        let reporter = ConsoleReporter(quiet: options.quiet)
        // The lineage tag on the master image: which payload versions this checkout ships.
        let payloadVersions = Set(controller.store.manifest.payloads.map(\.version)).sorted().joined(separator: ",")
        let runner = WorkflowRunner(
            steps: Workflow.steps(services: controller.services, guest: controller.guest,
                                  payloadVersions: payloadVersions),
            ledger: ledger, reporter: reporter)
        var runOptions = WorkflowRunner.Options()
        runOptions.from = from
        runOptions.until = until
        runOptions.rerun = Set(rerun)
        runOptions.dryRun = dryRun
        runOptions.onError = onError

        if dryRun {
            let existing = try ledger.unfinishedRun(planName: plan.name)
            let record = existing ?? RunRecord(id: "(new run)", planName: plan.name, planPath: self.plan, planSha256: planSha,
                                               status: "dry-run", createdAt: "", updatedAt: "", finishedAt: nil)
            print(existing.map { "Dry run: would resume \($0.id)" } ?? "Dry run: would start a new run of \(plan.name)")
            try await runner.execute(run: record, plan: plan, options: runOptions)
            return
        }

        let locks = ["plan:\(plan.name)", "instance:\(plan.source.instanceId)"]
        for name in locks {
            if breakLock { try ledger.breakLock(name) }
            do { try ledger.acquireLock(name, runId: nil) } catch let error as LedgerError {
                TerminalText.writeError("\(error)\n")
                throw ExitCodes.locked
            }
        }
        defer { for name in locks { try? ledger.releaseLock(name) } }

        let run: RunRecord
        // --rerun goes back into the newest run even when it finished; otherwise the unfinished one is resumed.
        let resumable = try rerun.isEmpty ? ledger.unfinishedRun(planName: plan.name) : ledger.latestRun(planName: plan.name)
        if !new, let unfinished = resumable {
            if unfinished.planSha256 != planSha {
                TerminalText.writeError("note: \(self.plan) changed since \(unfinished.id) started; resuming with the new plan\n")
            }
            try ledger.setRunStatus(unfinished.id, "running")
            run = unfinished
            if !options.quiet { print("Resuming \(run.id) of plan \(plan.name)") }
        } else {
            run = try ledger.createRun(planName: plan.name, planPath: self.plan, planSha256: planSha)
            if !options.quiet { print("Started \(run.id) of plan \(plan.name); ledger \(ledger.path)") }
        }
        try ledger.event(runId: run.id, "run started by \(Ledger.currentOwner())")

        let finalOptions = runOptions
        let outcome = await Interruptible.run { [runner, ledger] in
            try await withHeartbeat(ledger: ledger, locks: locks) {
                try await runner.execute(run: run, plan: plan, options: finalOptions)
            }
        }
        switch outcome {
        case .success(let state):
            RunSummary.print(run: try ledger.run(id: run.id), state: state, ledger: ledger, format: options.output)
        case .failure(let error):
            let status = (try? ledger.run(id: run.id).status) ?? "failed"
            TerminalText.writeError("\(run.id) \(status): \(error)\nRun `clonectl run \(self.plan)` again to resume; `clonectl status \(run.id)` shows where it stands.\n")
            throw error is CancellationError ? ExitCodes.interrupted : ExitCodes.failed
        }
    }
}

extension StepName: ExpressibleByArgument {}
extension WorkflowRunner.OnError: ExpressibleByArgument {}

/// Keeps the locks fresh while `body` runs (an AMI can take an hour; a stale lock could be broken by another run).
func withHeartbeat<T: Sendable>(ledger: Ledger, locks: [String], _ body: @Sendable () async throws -> T) async throws -> T {
    let beat = Task {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(60))
            for name in locks { try? ledger.heartbeat(name) }
        }
    }
    defer { beat.cancel() }
    return try await body()
}

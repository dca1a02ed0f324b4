import ArgumentParser
import Foundation
import ClonectlCrypto
import ClonectlLedger
import ClonectlPlan
import ClonectlWorkflow

/// `clonectl run PLAN`: the whole procedure, resumable. A second `run` of the same plan continues its unfinished run.
public struct RunCommand: AsyncParsableCommand, SelectsOutput {
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

    var outputFormat: OutputFormat { options.output }

    public func run() async throws {
        let began = ContinuousClock.now
        let plan = try PlanLoader.load(path: self.plan)  // a PlanError leaves as exit 65 with every problem
        let planSha = Hex.encode(Crypto.sha256((try? Data(contentsOf: URL(fileURLWithPath: self.plan))) ?? Data()))
        let controller = try Controller.open(options)
        defer { controller.close() }
        let ledger = controller.ledger
        let reporter = ConsoleReporter(quiet: options.quiet, format: options.output)
        defer { reporter.finish() }
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
            let heading = existing.map { "Dry run: would resume \($0.id)" } ?? "Dry run: would start a new run of \(plan.name)"
            if !Output.isJSON { Console.out(heading) }
            try await runner.execute(run: record, plan: plan, options: runOptions)
            reporter.finish()
            Output.success([
                ("dryRun", .bool(true)), ("plan", .string(plan.name)), ("resumes", .text(existing?.id)),
                ("steps", .array(reporter.dryRun.map { step, lines in
                    .object([("name", .string(step.rawValue)), ("actions", .strings(lines))])
                })),
            ], text: "")
            return
        }

        let locks = ["plan:\(plan.name)", "instance:\(plan.source.instanceId)"]
        for name in locks {
            if breakLock { try ledger.breakLock(name) }
            try ledger.acquireLock(name, runId: nil)  // a LedgerError.locked leaves as exit 75
        }
        defer { for name in locks { try? ledger.releaseLock(name) } }

        let run: RunRecord
        // --rerun goes back into the newest run even when it finished; otherwise the unfinished one is resumed.
        let resumable = try rerun.isEmpty ? ledger.unfinishedRun(planName: plan.name) : ledger.latestRun(planName: plan.name)
        if !new, let unfinished = resumable {
            if unfinished.planSha256 != planSha {
                Console.err("note: \(self.plan) changed since \(unfinished.id) started; resuming with the new plan")
            }
            try ledger.setRunStatus(unfinished.id, "running")
            run = unfinished
            if !options.quiet { Console.err("Resuming \(run.id) of plan \(plan.name)") }
        } else {
            run = try ledger.createRun(planName: plan.name, planPath: self.plan, planSha256: planSha)
            if !options.quiet { Console.err("Started \(run.id) of plan \(plan.name); ledger \(ledger.path)") }
        }
        try ledger.event(runId: run.id, "run started by \(Ledger.currentOwner())")

        let finalOptions = runOptions
        let outcome = await Interruptible.run { [runner, ledger] in
            try await withHeartbeat(ledger: ledger, locks: locks) {
                try await runner.execute(run: run, plan: plan, options: finalOptions)
            }
        }
        reporter.finish()
        let record = (try? ledger.run(id: run.id)) ?? run
        let state = try? ledger.runState(run.id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
        let recap = RunRecap.load(run: record, state: state ?? nil, ledger: ledger, wall: ContinuousClock.now - began)
        switch outcome {
        case .success:
            Output.success(recap.json, text: recap.text)
        case .failure(let error):
            let interrupted = error is CancellationError
            let again = shellCommand(["clonectl", "run", self.plan] + options.repeatedArguments)
            let status = shellCommand(["clonectl", "status", run.id] + (options.store.ledger.map { ["--ledger", $0] } ?? []))
            throw CLIFailure(code: interrupted ? "interrupted" : "run-failed",
                             message: "\(run.id) \(record.status): \(CLIFailure.describe(error))\n"
                                + "Run `\(again)` again to resume; `\(status)` shows where it stands.",
                             exitCode: interrupted ? CLIFailure.Exit.interrupted : CLIFailure.Exit.failed,
                             result: recap.json, text: recap.text)
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

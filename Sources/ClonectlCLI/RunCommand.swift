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
            A plan whose newest run succeeded is done: running it again changes nothing (exit 0); --new starts another
            round. A run undone by cleanup is never resumed; --new starts another round.
            """)

    @Argument(help: "The plan file (YAML).") public var plan: String
    @OptionGroup public var options: ControllerOptions
    @Option(help: "Start at this step.") public var from: StepName?
    @Option(help: "Stop after this step.") public var until: StepName?
    @Option(help: "Run this step again although it succeeded (repeatable).") public var rerun: [StepName] = []
    @Flag(help: "Print every AWS call and guest step it would make, and make none.") public var dryRun = false
    @Flag(help: "With --dry-run: also check against AWS, read-only: the plan's ids exist in the region, the source's SSM agent is Online, the permissions (as doctor checks them) and the read-only preflight payload on the source.")
    public var check = false
    @Flag(help: "Start a new round: a new run even if this plan's newest run finished (or is unfinished).") public var new = false
    @Option(name: .customLong("on-error"), help: "abort (keep everything, resume later) or cleanup (undo this run).")
    public var onError: WorkflowRunner.OnError = .abort
    @Flag(name: .customLong("break-lock"), help: "Take the plan's lock even if another controller seems to hold it.")
    public var breakLock = false

    public init() {}

    public func validate() throws {
        if check && !dryRun { throw ValidationError("--check goes with --dry-run (run --dry-run --check)") }
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
        let controller = try Controller.open(options, plan: (plan.region, self.plan))
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

        // Decided from the plan's newest run before anything else: a finished plan makes no AWS call at all.
        let selection = RunSelection.decide(latest: try ledger.latestRun(planName: plan.name), new: new, rerun: !rerun.isEmpty)

        if dryRun {
            var existing: RunRecord?
            switch selection {
            case .resume(let r): existing = r
            case .alreadyDone, .cleaned: print("Dry run: \(selection.message ?? ""); with --new it would:")
            case .start: break
            }
            let record = existing ?? RunRecord(id: "(new run)", planName: plan.name, planPath: self.plan, planSha256: planSha,
                                               status: "dry-run", createdAt: "", updatedAt: "", finishedAt: nil)
            print(existing.map { "Dry run: would resume \($0.id)" } ?? "Dry run: would start a new run of \(plan.name)")
            try await runner.execute(run: record, plan: plan, options: runOptions)
            if check {
                if try await DryRunCheck.run(plan: plan, planFile: self.plan, controller: controller) > 0 { throw ExitCodes.failed }
            }
            return
        }
        switch selection {
        case .alreadyDone(let r):
            if options.output == .json {
                emitJSON(["run": r.id, "plan": r.planName, "status": r.status, "finishedAt": r.finishedAt ?? r.updatedAt,
                          "alreadyDone": true, "message": selection.message ?? ""])
            } else {
                print(selection.message ?? "")
            }
            return
        case .cleaned:
            TerminalText.writeError("\(selection.message ?? "")\n")
            throw ExitCodes.failed
        case .start, .resume: break
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

        // The source carries the run's claim, which a controller with another ledger sees too: checked before a new
        // run is even recorded, tagged once it is.
        let claim = SourceClaim(ec2: controller.services.ec2)
        let region = controller.session.settings.region.name
        var resuming: RunRecord?
        if case .resume(let r) = selection { resuming = r }
        do {
            try await claim.check(plan.source.instanceId, ownRunId: resuming?.id, force: breakLock)
        } catch let held as SourceClaim.Held {
            var text = "\(held)"
            if let own = try? ledger.run(id: held.runId) {
                text += "\n\(own.id) is \(own.status) in this ledger: resume it with `clonectl run \(self.plan)` (without --new), "
                    + "or undo it with `clonectl cleanup \(own.id) --all` first"
            }
            TerminalText.writeError("\(text)\n")
            throw ExitCodes.locked
        } catch {
            TerminalText.writeError("cannot start: \(error)\n\(AWSErrorHints.advice(for: error, region: region, plan: self.plan))\n")
            throw ExitCodes.failed
        }

        let run: RunRecord
        if let unfinished = resuming {
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
        // Who ran it, for the report and the audit: the caller ARN (GetCallerIdentity needs no permission) and the
        // region. Best effort: a run is not refused because STS did not answer; the report then says "unknown".
        let caller = try? await controller.session.sts.getCallerIdentity()
        try? ledger.recordRunIdentity(run.id, callerArn: caller?.arn, region: region)
        do {
            try await claim.claim(plan.source.instanceId, runId: run.id, host: Ledger.currentOwner().host)
        } catch {
            try? ledger.setRunStatus(run.id, "failed")
            TerminalText.writeError("\(run.id) failed before its first step: could not tag the source \(plan.source.instanceId) (\(error))\n\(AWSErrorHints.advice(for: error, region: region, plan: self.plan))\n")
            throw ExitCodes.failed
        }

        let finalOptions = runOptions
        let outcome = await Interruptible.run { [runner, ledger] in
            try await withHeartbeat(ledger: ledger, locks: locks) {
                try await runner.execute(run: run, plan: plan, options: finalOptions)
            }
        }
        let finalStatus = (try? ledger.run(id: run.id).status) ?? "failed"
        if finalStatus == "succeeded" || finalStatus == "cleaned" {
            do { try await claim.release(plan.source.instanceId, runId: run.id, state: finalStatus == "succeeded" ? "done" : "cleaned") } catch {
                TerminalText.writeError("warning: could not mark the source \(plan.source.instanceId) as released (\(error)); its tag clonectl:state still says held\n")
            }
        }
        switch outcome {
        case .success(let state):
            RunSummary.print(run: try ledger.run(id: run.id), state: state, ledger: ledger, format: options.output)
        case .failure(let error):
            let next: String
            if error is CancellationError {
                next = "Run `clonectl run \(self.plan)` again to resume"
            } else if finalStatus == "cleaned" {
                next = "The run was undone (--on-error cleanup); `clonectl run \(self.plan) --new` starts another round"
            } else {
                next = AWSErrorHints.advice(for: error, region: region, plan: self.plan)
            }
            TerminalText.writeError("\(run.id) \(finalStatus): \(error)\n\(next); `clonectl status \(run.id)` shows where it stands.\n")
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

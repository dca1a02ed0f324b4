import ArgumentParser
import AWSCredentials
import Foundation
import ClonectlCrypto
import ClonectlAgent
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

    var outputFormat: OutputFormat { options.output }

    public func run() async throws {
        let began = ContinuousClock.now
        let plan = try PlanLoader.load(path: self.plan)  // a PlanError leaves as exit 65 with every problem
        let planSha = Hex.encode(Crypto.sha256((try? Data(contentsOf: URL(fileURLWithPath: self.plan))) ?? Data()))
        let controller = try Controller.open(options, plan: (plan.region, self.plan))
        defer { controller.close() }
        // Pinned payload versions (`payloads:`): unknown ones are a plan error, superseded ones a warning.
        do {
            let pins = plan.payloadPins.sorted { $0.key < $1.key }.map { (name: $0.key, version: $0.value) }
            for line in try controller.store.pinWarnings(pins) { Console.err(line) }
        } catch {
            throw CLIFailure(code: "plan-invalid", message: "\(self.plan): payloads: \(error)",
                             exitCode: CLIFailure.Exit.planInvalid)
        }
        let ledger = controller.ledger
        let reporter = ConsoleReporter(quiet: options.quiet, format: options.output)
        defer { reporter.finish() }
        // The lineage tag on the master image: which payload versions this checkout ships.
        let payloadVersions = Set(controller.store.manifest.payloads.map(\.version)).sorted().joined(separator: ",")
        // The plan's `output:`: guest steps ask the agent to upload their whole output there too.
        var guest = controller.guest
        guest.output = plan.output
        let runner = WorkflowRunner(
            steps: Workflow.steps(services: controller.services, guest: guest,
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
            var note: String?
            switch selection {
            case .resume(let r): existing = r
            case .alreadyDone, .cleaned: note = "\(selection.message ?? ""); with --new it would:"
            case .start: break
            }
            let record = existing ?? RunRecord(id: "(new run)", planName: plan.name, planPath: self.plan, planSha256: planSha,
                                               status: "dry-run", createdAt: "", updatedAt: "", finishedAt: nil)
            let heading = existing.map { "Dry run: would resume \($0.id)" } ?? "Dry run: would start a new run of \(plan.name)"
            if !Output.isJSON {
                if let note { Console.out("Dry run: \(note)") }
                Console.out(heading)
            }
            try await runner.execute(run: record, plan: plan, options: runOptions)
            reporter.finish()
            var members: [(String, JSONValue)] = [
                ("dryRun", .bool(true)), ("plan", .string(plan.name)), ("resumes", .text(existing?.id)),
                ("note", .text(note)),
                ("steps", .array(reporter.dryRun.map { step, lines in
                    .object([("name", .string(step.rawValue)), ("actions", .strings(lines))])
                })),
            ]
            if check {
                let report = DoctorReport()
                try await DryRunCheck.run(plan: plan, planFile: self.plan, controller: controller, report: report)
                members.append(("checks", report.json))
                let failed = report.checks.filter { $0.status == .fail }
                guard failed.isEmpty else {
                    throw CLIFailure(code: "checks-failed",
                                     message: "\(failed.count) check(s) failed; nothing was changed: " + failed.map(\.name).joined(separator: ", "),
                                     exitCode: CLIFailure.Exit.failed, result: members)
                }
            }
            Output.success(members, text: "")
            return
        }
        switch selection {
        case .alreadyDone(let r):
            Output.success([("run", .string(r.id)), ("plan", .string(r.planName)), ("status", .string(r.status)),
                            ("finishedAt", .string(r.finishedAt ?? r.updatedAt)), ("alreadyDone", .bool(true)),
                            ("message", .string(selection.message ?? ""))],
                           text: selection.message ?? "")
            return
        case .cleaned:
            throw CLIFailure.failed("cleaned", selection.message ?? "the newest run of this plan was cleaned up; --new starts another round")
        case .start, .resume: break
        }

        let locks = ["plan:\(plan.name)", "instance:\(plan.source.instanceId)"]
        for name in locks {
            if breakLock { try ledger.breakLock(name) }
            try ledger.acquireLock(name, runId: nil)  // a LedgerError.locked leaves as exit 75
        }
        defer { for name in locks { try? ledger.releaseLock(name) } }

        // What to type to go on: the same command with the options that chose the ledger and the AWS (D6).
        let again = shellCommand([self.plan] + options.repeatedArguments)
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
                text += "\n\(own.id) is \(own.status) in this ledger: resume it with `clonectl run \(again)` (without --new), "
                    + "or undo it with `clonectl cleanup \(own.id) --all` first"
            }
            throw CLIFailure.locked(text)
        } catch let refused as SourceClaim.NotOptedIn {
            throw CLIFailure.failed("source-not-opted-in", "\(refused)")
        } catch let error as AWSConfigError {
            throw CLIFailure.config(error.description)  // no credentials, say: nothing to resume, exit 78
        } catch {
            throw CLIFailure.failed("aws", "cannot start: \(CLIFailure.describe(error))\n\(AWSErrorHints.advice(for: error, region: region, plan: again))")
        }

        let run: RunRecord
        if let unfinished = resuming {
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
        // Who ran it, for the report and the audit: the caller ARN (GetCallerIdentity needs no permission) and the
        // region. Best effort: a run is not refused because STS did not answer; the report then says "unknown".
        let caller = try? await controller.session.sts.getCallerIdentity()
        try? ledger.recordRunIdentity(run.id, callerArn: caller?.arn, region: region)
        do {
            try await claim.claim(plan.source.instanceId, runId: run.id, host: Ledger.currentOwner().host)
        } catch {
            try? ledger.setRunStatus(run.id, "failed")
            throw CLIFailure.failed("run-failed", "\(run.id) failed before its first step: could not tag the source \(plan.source.instanceId) (\(CLIFailure.describe(error)))\n\(AWSErrorHints.advice(for: error, region: region, plan: again))")
        }

        let finalOptions = runOptions
        let outcome = await Interruptible.run { [runner, ledger] in
            try await withHeartbeat(ledger: ledger, locks: locks) {
                try await runner.execute(run: run, plan: plan, options: finalOptions)
            }
        }
        reporter.finish()
        let finalStatus = (try? ledger.run(id: run.id).status) ?? "failed"
        if finalStatus == "succeeded" || finalStatus == "cleaned" {
            do { try await claim.release(plan.source.instanceId, runId: run.id, state: finalStatus == "succeeded" ? "done" : "cleaned") } catch {
                Console.err("warning: could not mark the source \(plan.source.instanceId) as released (\(CLIFailure.describe(error))); its tag clonectl:state still says held")
            }
        }
        let record = (try? ledger.run(id: run.id)) ?? run
        let state = try? ledger.runState(run.id).map { try JSONDecoder().decode(RunState.self, from: Data($0.utf8)) }
        let recap = RunRecap.load(run: record, state: state ?? nil, ledger: ledger, wall: ContinuousClock.now - began)
        switch outcome {
        case .success:
            Output.success(recap.json, text: recap.text)
        case .failure(let error):
            let interrupted = error is CancellationError
            let next: String
            if interrupted {
                next = "Run `clonectl run \(again)` again to resume"
            } else if finalStatus == "cleaned" {
                next = "The run was undone (--on-error cleanup); `clonectl run \(again) --new` starts another round"
            } else {
                next = AWSErrorHints.advice(for: error, region: region, plan: again)
            }
            let status = shellCommand(["clonectl", "status", run.id] + (options.store.ledger.map { ["--ledger", $0] } ?? []))
            throw CLIFailure(code: interrupted ? "interrupted" : "run-failed",
                             message: "\(run.id) \(finalStatus): \(CLIFailure.describe(error))\n\(next); `\(status)` shows where it stands.",
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

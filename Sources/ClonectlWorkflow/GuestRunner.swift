import AWSCore
import ClonectlAgent
import ClonectlLedger
import Foundation

/// What one instance answered to one guest step.
public struct GuestOutcome: Sendable {
    public var commandId: String
    public var instanceId: String
    /// Run Command's final status (Success, Failed, TimedOut, Cancelled, ...).
    public var status: String
    public var statusDetails: String?
    public var responseCode: Int?
    public var verdict: Verdict
    public var reason: String
    public var envelope: Envelope?

    /// Run Command says Success and a verified envelope says ok or changed. Both are needed: sysprep exits 1 after
    /// writing `changed` when Sysprep itself could not be started.
    public var succeeded: Bool {
        status == "Success" && verdict == .verified && (envelope?.status == .ok || envelope?.status == .changed)
    }
}

/// Run Command's rate controls for each command (SendCommand `MaxConcurrency` / `MaxErrors`). They apply per
/// command of at most 50 instances, as Run Command applies them; a percentage therefore holds fleet-wide.
public struct RateControl: Sendable, Equatable {
    public var maxConcurrency: String?
    public var maxErrors: String?
    public init(maxConcurrency: String? = nil, maxErrors: String? = nil) {
        self.maxConcurrency = maxConcurrency
        self.maxErrors = maxErrors
    }
    public static let none = RateControl()
}

/// Runs a payload on any number of instances through Run Command: one hash-checked loader and one SendCommand
/// per group of at most 50 instances (each group carrying only its own instances' parameters), every group sent
/// and polled at once. Each command is polled with ListCommandInvocations (one page per 50 invocations per
/// round); GetCommandInvocation only when 2,500 characters were not a complete envelope. Each envelope is
/// verified, and command and invocations are recorded in the ledger. A group that already has a verified
/// result is not sent again; a command that was sent but not seen to finish is polled again, not re-sent.
public struct GuestRunner: Sendable {
    public struct Polling: Sendable {
        /// The first poll of a command comes this soon after it was sent.
        public var firstDelay: Duration = .seconds(2)
        /// The operator's bound: no poll interval is ever longer than this (`--max-poll-interval`).
        public var maxDelay: Duration = .seconds(20)
        /// Between the two, the interval is this share of the time the command has run: a host name change with
        /// its reboot is polled every couple of seconds, a 20-minute Sysprep every `maxDelay`.
        public var backoffShare = 0.25
        /// Run Command's delivery timeout (SendCommand TimeoutSeconds).
        public var deliveryTimeoutSeconds = 600
        /// How long the whole command may take before clonectl gives up on it.
        public var overallTimeout: Duration = .seconds(2 * 3600)
        /// Polls of one fleet step in flight at once (each holds a page of up to 50 outputs while it is read).
        public var pollsInFlight = 8
        public init() {}

        /// The wait before the next poll of a command that has been running for `elapsed`.
        public func delay(afterRunning elapsed: Duration) -> Duration {
            min(maxDelay, max(firstDelay, elapsed * backoffShare))
        }
    }

    let ssm: SSMClient
    let store: PayloadStore
    let ledger: Ledger
    let polling: Polling

    public init(ssm: SSMClient, store: PayloadStore, ledger: Ledger, polling: Polling = Polling()) {
        self.ssm = ssm
        self.store = store
        self.ledger = ledger
        self.polling = polling
    }

    /// Runs `payload` (NAME or NAME@VERSION) on `instanceIds` with `params`, for `step` of `runId` (nil for a lone
    /// `clonectl step`). `reuse`: take an earlier verified result of the same step instead of sending again.
    /// Returns one outcome per instance, in the order given. When a group could not be sent or polled, the other
    /// groups still run to the end (and are recorded) before the first such error is thrown.
    /// `retainFacts`: for a fleet, the facts the caller needs; each outcome then keeps a slimmed envelope once the
    /// whole one is recorded (memory follows the invocations in flight, not their outputs). nil keeps everything.
    public func run(payload reference: String, params: LoaderParams, instanceIds: [String], step: String,
                    runId: String?, reuse: Bool = true, rateControl: RateControl = .none,
                    retainFacts: Set<String>? = nil,
                    progress: (@Sendable (String) -> Void)? = nil) async throws -> [GuestOutcome] {
        guard !instanceIds.isEmpty else { throw WorkflowError.precondition("a guest step needs at least one instance") }
        guard Set(instanceIds).count == instanceIds.count else {
            throw WorkflowError.precondition("an instance is named twice for \(reference); name each once")
        }
        let entry = try store.resolve(reference)
        let groups = instanceIds.chunks(of: SSMClient.maxInstancesPerCommand)
        let gate = AsyncGate(limit: polling.pollsInFlight)
        let results = await withTaskGroup(of: (Int, Result<[GuestOutcome], any Error>).self) { tasks in
            // Sends go one after another (SendCommand is paced by its own rate limiter); each group's polling
            // starts as soon as its command is out.
            for (index, group) in groups.enumerated() {
                let work: Result<GroupWork, any Error>
                do {
                    try Task.checkCancellation()
                    work = .success(try await prepare(entry, params: params.restricted(to: group), group: group,
                                                      step: step, runId: runId, reuse: reuse, rateControl: rateControl,
                                                      retainFacts: retainFacts, progress: progress))
                } catch {
                    work = .failure(error)
                }
                tasks.addTask {
                    do {
                        switch try work.get() {
                        case .done(let outcomes): return (index, .success(outcomes))
                        case .poll(let record):
                            return (index, .success(try await poll(record, gate: gate, retainFacts: retainFacts,
                                                                    progress: progress)))
                        }
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var ordered = [Result<[GuestOutcome], any Error>?](repeating: nil, count: groups.count)
            for await (index, result) in tasks { ordered[index] = result }
            return ordered
        }
        var outcomes: [GuestOutcome] = []
        outcomes.reserveCapacity(instanceIds.count)
        for result in results {
            switch result {
            case .success(let some)?: outcomes += some
            case .failure(let error)?: throw error
            case nil: throw WorkflowError.invariant("a command group of \(entry.name) ended without a result")
            }
        }
        return outcomes
    }

    /// What a group needs: an earlier verified success that stands, or a command to poll.
    enum GroupWork: Sendable {
        case done([GuestOutcome])
        case poll(CommandRecord)
    }

    /// An earlier command of the same step to resume or to take as done; otherwise a new one, sent and recorded.
    func prepare(_ entry: Manifest.Payload, params: LoaderParams, group: [String], step: String, runId: String?,
                 reuse: Bool, rateControl: RateControl, retainFacts: Set<String>? = nil,
                 progress: (@Sendable (String) -> Void)?) async throws -> GroupWork {
        if let runId, reuse, let earlier = try earlierCommand(runId: runId, step: step, payload: entry.name, instanceIds: group) {
            let judged = try ledger.invocations(commandId: earlier.commandId).filter { $0.verdict != nil }
            if judged.count < earlier.instanceIds.count {
                // Sent before a crash and not seen to finish: poll it, never send it twice.
                progress?("resuming command \(earlier.commandId) sent at \(earlier.sentAt)")
                return .poll(earlier)
            }
            let outcomes = try await poll(earlier, retainFacts: retainFacts, progress: nil)
            if outcomes.allSatisfy(\.succeeded) {
                progress?("already done by command \(earlier.commandId) (verified); not sent again")
                return .done(outcomes)
            }
            // It finished and failed somewhere: a resumed run tries again with a new command.
        }
        let loader = try LoaderBuilder.build(store: store, reference: "\(entry.name)@\(entry.version)", params: params)
        let command = try await send(SendCommandInput(
            instanceIds: group, parameters: ["commands": [loader.text]],
            comment: String("clonectl \(step) \(entry.name)@\(entry.version)".prefix(100)),
            timeoutSeconds: polling.deliveryTimeoutSeconds,
            maxConcurrency: rateControl.maxConcurrency, maxErrors: rateControl.maxErrors))
        let record = CommandRecord(
            commandId: command.commandId, runId: runId, step: step, payload: entry.name, version: entry.version,
            payloadSha256: loader.record.payloadSha256, nonce: loader.record.nonce, instanceIds: group,
            parametersJSON: loader.record.paramsJSON, sentAt: Self.now())
        try ledger.recordCommand(record)
        progress?("sent \(entry.name)@\(entry.version) as command \(command.commandId) to \(group.count) instance(s)")
        return .poll(record)
    }

    /// SendCommand, sent again later when Run Command throttled it beyond the retry strategy's attempts: a
    /// throttled call was refused, not carried out, so no command exists twice.
    func send(_ input: SendCommandInput) async throws -> SSMCommand {
        var throttled = 0
        while true {
            do {
                return try await ssm.sendCommand(input)
            } catch let error as AWSError where error.isThrottling && throttled < Waiter.maxTransientFailures {
                throttled += 1
                try await Task.sleep(for: polling.firstDelay * throttled)
            }
        }
    }

    /// The newest command of this step that covers the same instances; nil when it must be sent anew.
    func earlierCommand(runId: String, step: String, payload: String, instanceIds: [String]) throws -> CommandRecord? {
        try ledger.commands(runId: runId, step: step).reversed()
            .first { $0.payload == payload && Set($0.instanceIds) == Set(instanceIds) }
    }

    /// Polls one command until every instance's invocation is terminal, then verifies and records each. The
    /// interval grows with the time the command has run (`Polling.delay`); the ledger is written when an
    /// invocation's status changes, once per page.
    func poll(_ command: CommandRecord, gate: AsyncGate? = nil, retainFacts: Set<String>? = nil,
              progress: (@Sendable (String) -> Void)?) async throws -> [GuestOutcome] {
        var outcomes: [String: GuestOutcome] = [:]
        var seenStatus: [String: String] = [:]
        func keep(_ outcome: GuestOutcome) -> GuestOutcome {
            guard let keys = retainFacts else { return outcome }
            var slim = outcome
            slim.envelope = outcome.envelope?.slimmed(keepingFacts: keys)
            return slim
        }
        // Invocations the ledger already holds as verified need no more polling.
        for inv in try ledger.invocations(commandId: command.commandId) {
            seenStatus[inv.instanceId] = inv.status
            if inv.verdict == Verdict.verified.rawValue, let output = inv.output {
                outcomes[inv.instanceId] = keep(judge(command, instanceId: inv.instanceId, status: inv.status,
                                                      details: inv.statusDetails, code: inv.responseCode, output: output))
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now + polling.overallTimeout
        // A resumed command has been running since it was sent.
        let alreadyRunning = Ledger.parse(command.sentAt).map { max(0, Date().timeIntervalSince($0)) } ?? 0
        let started = clock.now - .milliseconds(Int64(alreadyRunning * 1000))
        var delay = polling.firstDelay
        var notYetListed = 0
        var transientFailures = 0
        while outcomes.count < command.instanceIds.count {
            try Task.checkCancellation()
            let round: PollRound
            do {
                let judged = Set(outcomes.keys)
                if let gate {
                    round = try await gate.run { try await pollOnce(command, skipping: judged) }
                } else {
                    round = try await pollOnce(command, skipping: judged)
                }
                transientFailures = 0
            } catch let error as AWSError where error.isTransient && transientFailures < Waiter.maxTransientFailures {
                // A poll that failed after its own retries is tried again next round; the command is still running.
                transientFailures += 1
                progress?("polling \(command.commandId) failed (\(error.code)), trying again")
                try await Task.sleep(for: delay)
                continue
            }
            if round.listed == 0 { notYetListed += 1 }
            var changed = round.finished.map(\.record)
            for (instanceId, status, details) in round.unfinished where seenStatus[instanceId] != status {
                seenStatus[instanceId] = status
                changed.append(InvocationRecord(commandId: command.commandId, instanceId: instanceId, status: status,
                                                statusDetails: details, updatedAt: Self.now()))
            }
            // Recorded before they count as seen: a crash here means they are polled again, not lost. Only the
            // verdict and the envelope are kept from here on, not the output.
            try ledger.recordInvocations(changed)
            // A few instances get a line each; a bigger command a line per round, and one per instance that failed.
            let eachInstance = command.instanceIds.count <= 5
            for (outcome, _) in round.finished where eachInstance || !outcome.succeeded {
                progress?("\(outcome.instanceId): \(outcome.status), envelope \(outcome.verdict.rawValue)")
            }
            for (outcome, _) in round.finished { outcomes[outcome.instanceId] = keep(outcome) }
            if !eachInstance, !round.finished.isEmpty {
                let failed = outcomes.values.filter { !$0.succeeded }.count
                progress?("command \(command.commandId): \(outcomes.count) of \(command.instanceIds.count) finished"
                          + (failed > 0 ? ", \(failed) did not succeed" : ""))
            }
            if outcomes.count == command.instanceIds.count { break }
            if notYetListed > 30 {
                throw WorkflowError.guest("command \(command.commandId) lists no invocations after \(notYetListed) polls")
            }
            delay = polling.delay(afterRunning: clock.now - started)
            guard clock.now + delay < deadline else {
                throw WorkflowError.guest("command \(command.commandId) did not finish on every instance within \(polling.overallTimeout); it is recorded, so `clonectl run` can resume polling it")
            }
            try await Task.sleep(for: delay)
        }
        return command.instanceIds.compactMap { outcomes[$0] }
    }

    /// What one poll of a command saw: how many invocations were listed, the unfinished ones' status, and the
    /// finished ones judged (with the record that keeps their output).
    struct PollRound: Sendable {
        var listed = 0
        var unfinished: [(String, String, String?)] = []
        var finished: [(outcome: GuestOutcome, record: InvocationRecord)] = []
    }

    /// One ListCommandInvocations round of a command (a page per 50 invocations), plus GetCommandInvocation for a
    /// finished invocation whose 2,500 characters are not a complete envelope. `skipping`: already judged.
    func pollOnce(_ command: CommandRecord, skipping judged: Set<String>) async throws -> PollRound {
        let invocations = try await ssm.listAllCommandInvocations(commandId: command.commandId, details: true)
        var round = PollRound(listed: invocations.count)
        for inv in invocations where !judged.contains(inv.instanceId) {
            guard let status = inv.invocationStatus, status.isTerminal else {
                round.unfinished.append((inv.instanceId, inv.status, inv.statusDetails))
                continue
            }
            let plugin = inv.commandPlugins?.first
            var output = plugin?.output ?? ""
            var outcome = judge(command, instanceId: inv.instanceId, status: inv.status, details: inv.statusDetails,
                                code: plugin?.responseCode, output: output)
            // 2,500 characters were not enough: fetch the invocation's full 24,000.
            if OutputLimits.shouldFetchFullOutput(listOutput: output, verdict: outcome.verdict) {
                let full = try await ssm.getCommandInvocation(commandId: command.commandId, instanceId: inv.instanceId)
                output = full.standardOutputContent ?? output
                outcome = judge(command, instanceId: inv.instanceId, status: full.status, details: full.statusDetails,
                                code: full.responseCode, output: output)
            }
            round.finished.append((outcome, InvocationRecord(
                commandId: command.commandId, instanceId: inv.instanceId, status: outcome.status,
                statusDetails: outcome.statusDetails, responseCode: outcome.responseCode, output: output,
                verdict: outcome.verdict.rawValue, resultJSON: outcome.envelope.map { CanonicalJSON.encode($0.json) },
                finishedAt: Self.now(), updatedAt: Self.now())))
        }
        return round
    }

    func judge(_ command: CommandRecord, instanceId: String, status: String, details: String?, code: Int?,
               output: String) -> GuestOutcome {
        let v = EnvelopeVerifier.verify(output: output, nonce: command.nonce, payloadSha256: command.payloadSha256,
                                        instanceId: instanceId)
        let why = v.verdict == .missing ? (Self.statusReason(status: status, details: details) ?? v.reason) : v.reason
        return GuestOutcome(commandId: command.commandId, instanceId: instanceId, status: status, statusDetails: details,
                            responseCode: code, verdict: v.verdict, reason: why, envelope: v.envelope)
    }

    /// Why an invocation that printed no envelope ended as it did, in the API reference's terms; nil when the
    /// status says nothing more than the missing envelope does.
    static func statusReason(status: String, details: String?) -> String? {
        switch (status, details ?? "") {
        case ("Cancelled", "Terminated"):
            return "Run Command did not send it: the command had already exceeded its MaxErrors (Terminated)"
        case ("Cancelled", _):
            return "the command was cancelled (CancelCommand, from clonectl or elsewhere) before it finished"
        case ("TimedOut", "DeliveryTimedOut"):
            return "the agent never took the command within the delivery timeout (instance stopped or agent offline)"
        case ("TimedOut", "ExecutionTimedOut"):
            return "the command did not finish within its execution timeout (or the agent did not come back after a reboot)"
        case ("Failed", "Undeliverable"):
            return "the command could not be delivered: the instance or its agent is gone"
        default:
            return nil
        }
    }

    static func now() -> String { Ledger.format(Date()) }
}

import AWSCore
import ClonectlAgent
import ClonectlLedger
import ClonectlPlan
import Foundation
import Synchronization

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
        /// How long after its attempt went out a SendCommand may still land in Run Command: the HTTP attempt's
        /// timeout plus a margin. A resume that finds an intent younger than this keeps looking for its command
        /// until then before it sends anything.
        public var inFlightLimit: Duration = .seconds(70)
        /// After a lost answer in this process, how long to keep looking for the command before deciding that
        /// it was not carried out (the attempt has ended; only the service's own lag is left).
        public var lostAnswerWindow: Duration = .seconds(10)
        /// Between two ListCommands looks for a lost command.
        public var lookInterval: Duration = .seconds(1)
        /// Before a guest step: until every target's SSM agent is Online (DescribeInstanceInformation).
        public var agentOnline = WaiterConfiguration(minDelay: .seconds(2), maxDelay: .seconds(15), timeout: .seconds(15 * 60))
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
    /// inline (AWS-RunPowerShellScript) or clonectl's own documents, pinned by version and hash.
    public let delivery: Delivery
    /// Reads an envelope cut at 24,000 bytes from the copy the agent uploaded (commands sent with a bucket).
    let s3: S3Client?
    /// The plan's `output:`: commands sent from now on ask the agent to upload their whole output there.
    public var output: Plan.Output?
    /// Document versions already looked up, shared by this runner's copies.
    let pins: DocumentPins

    public init(ssm: SSMClient, store: PayloadStore, ledger: Ledger, polling: Polling = Polling(),
                delivery: Delivery = .inline, s3: S3Client? = nil, output: Plan.Output? = nil) {
        self.init(ssm: ssm, store: store, ledger: ledger, polling: polling, delivery: delivery, s3: s3, output: output,
                  pins: DocumentPins())
    }

    init(ssm: SSMClient, store: PayloadStore, ledger: Ledger, polling: Polling, delivery: Delivery, s3: S3Client?,
         output: Plan.Output?, pins: DocumentPins) {
        self.ssm = ssm
        self.store = store
        self.ledger = ledger
        self.polling = polling
        self.delivery = delivery
        self.s3 = s3
        self.output = output
        self.pins = pins
    }

    /// The same runner, sending its commands as `delivery` says (a plan's `documents:` or `step --mode`).
    public func with(delivery: Delivery) -> GuestRunner {
        GuestRunner(ssm: ssm, store: store, ledger: ledger, polling: polling, delivery: delivery, s3: s3, output: output,
                    pins: pins)
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
        // A SendCommand whose answer never arrived (lost, or the process died with it in flight) may be in Run
        // Command: look for it before anything is sent.
        if let adopted = try await adoptPending(step: step, payload: entry.name, group: group, runId: runId,
                                                progress: progress) {
            return .poll(adopted)
        }
        // Run Command refuses (InvalidInstanceId) an instance whose agent is not back yet, e.g. after a reboot.
        try await waitForAgents(group, progress: progress)
        let loader = try LoaderBuilder.build(store: store, reference: "\(entry.name)@\(entry.version)", params: params)
        let marker = CommandIntent.marker(nonce: loader.record.nonce)
        let comment = String("clonectl \(step) \(entry.name)@\(entry.version)".prefix(99 - marker.count)) + " " + marker
        // The intent is in the ledger before the first byte goes out: whatever happens next, a resume knows what
        // to look for.
        let intent = CommandIntent(
            nonce: loader.record.nonce, runId: runId, step: step, payload: entry.name, version: entry.version,
            payloadSha256: loader.record.payloadSha256, instanceIds: group, parametersJSON: loader.record.paramsJSON,
            comment: comment, createdAt: Self.now())
        var input: SendCommandInput
        let how: CommandDocumentRecord
        switch delivery {
        case .inline:
            input = SendCommandInput(instanceIds: group, parameters: ["commands": [loader.text]], comment: comment,
                                     timeoutSeconds: polling.deliveryTimeoutSeconds,
                                     maxConcurrency: rateControl.maxConcurrency, maxErrors: rateControl.maxErrors)
            how = CommandDocumentRecord(nonce: intent.nonce, mode: delivery.mode, documentName: input.documentName)
        case .documents(let prefix):
            // The version is found by its VersionName; the hash sent is the one built here from the released bytes,
            // so SSM refuses the command if the version it holds was altered. Only the nonce and the parameters
            // travel, each within its allowedPattern.
            let pin = try await pins.pin(prefix + entry.reference) {
                try await Documents(ssm: ssm, store: store, prefix: prefix).pin(entry, region: ssm.client.region)
            }
            input = SendCommandInput(instanceIds: group, documentName: pin.name, documentVersion: pin.documentVersion,
                                     parameters: CommandDocument.parameters(nonce: loader.record.nonce, params: params),
                                     comment: comment, timeoutSeconds: polling.deliveryTimeoutSeconds,
                                     maxConcurrency: rateControl.maxConcurrency, maxErrors: rateControl.maxErrors,
                                     documentHash: pin.sha256)
            how = CommandDocumentRecord(nonce: intent.nonce, mode: delivery.mode, documentName: pin.name,
                                        documentARN: pin.arn, documentVersion: pin.documentVersion, documentHash: pin.sha256)
        }
        try ledger.recordIntent(intent)
        try ledger.recordCommandDocument(how)
        if let output {
            // Recorded with the intent: a resume reads the output from where this command wrote it.
            try ledger.recordCommandOutputs(nonce: intent.nonce, output.commandOutputs)
            input.outputS3BucketName = output.s3Bucket
            input.outputS3KeyPrefix = output.s3KeyPrefix
            input.cloudWatchOutputConfig = output.cloudWatchLogGroup.map { CloudWatchOutputConfig(cloudWatchLogGroupName: $0) }
        }
        let commandId: String
        do {
            commandId = try await send(intent, input, progress: progress)
        } catch let error as AWSError where !error.outcomeUnknown {
            // Refused (invalid, throttled past every retry, agent gone): nothing to look for on a resume.
            try? ledger.abandonIntent(nonce: intent.nonce)
            if case .documents = delivery, error.code == "InvalidDocument" || error.code == "InvalidDocumentVersion" {
                throw WorkflowError.guest("SSM refused \(input.documentName) version \(input.documentVersion ?? "?") for \(entry.reference) (\(error.code): \(error.message)). Its DocumentHash is the SHA-256 clonectl builds from the released payload: the document was changed or removed behind clonectl's back. `clonectl documents verify` shows the drift; nothing was sent")
            }
            throw error
        }
        let record = intent.record(commandId: commandId)
        try ledger.completeIntent(nonce: intent.nonce, command: record)
        progress?("sent \(entry.name)@\(entry.version) as command \(commandId) to \(group.count) instance(s)")
        return .poll(record)
    }

    /// SendCommand, exactly once. Throttling proves the call was refused, so it is sent again later; an agent not
    /// yet back (InvalidInstanceId) likewise, once the agents are Online. A lost answer or a 5xx leaves the outcome
    /// unknown: Run Command is searched for the command (its marker and nonce) before it is sent again.
    func send(_ intent: CommandIntent, _ input: SendCommandInput,
              progress: (@Sendable (String) -> Void)?) async throws -> String {
        var throttled = 0, lost = 0, notManaged = 0
        let ledger = self.ledger
        while true {
            do {
                return try await ssm.sendCommand(input) { _ in
                    try ledger.markIntentAttempt(nonce: intent.nonce, at: Self.now())
                }.commandId
            } catch let error as AWSError where error.outcomeUnknown && lost < 2 {
                lost += 1
                progress?("SendCommand failed after it went out (\(error.code)); looking for command \(CommandIntent.marker(nonce: intent.nonce)) in Run Command before sending again")
                if let found = try await look(for: intent, until: ContinuousClock.now + polling.lostAnswerWindow) {
                    progress?("the command was carried out as \(found); its lost answer is not sent for again")
                    return found
                }
                progress?("no such command after \(polling.lostAnswerWindow): it was not carried out; sending it again")
            } catch let error as AWSError where error.isThrottling && throttled < Waiter.maxTransientFailures {
                throttled += 1
                try await Task.sleep(for: polling.firstDelay * throttled)
            } catch let error as AWSError where error.code == "InvalidInstanceId" && notManaged < 2 {
                // Refused before acting: an agent went offline (a reboot) between the Online check and the send.
                // An instance SSM does not know at all is the operator's to fix: the error stands.
                notManaged += 1
                guard try await waitForAgents(input.instanceIds, progress: progress) else { throw error }
            }
        }
    }

    /// Pending intents of this step and group: each is looked for in Run Command for as long as its last attempt
    /// could still land. The first found is adopted (recorded as the step's command); the others are abandoned.
    func adoptPending(step: String, payload: String, group: [String], runId: String?,
                      progress: (@Sendable (String) -> Void)?) async throws -> CommandRecord? {
        let pending = try ledger.pendingIntents(runId: runId, step: step)
            .filter { $0.payload == payload && Set($0.instanceIds) == Set(group) }
        for intent in pending {
            let sentAt = Ledger.parse(intent.attemptAt ?? intent.createdAt) ?? Date()
            let age = Duration.milliseconds(Int64(max(0, Date().timeIntervalSince(sentAt)) * 1000))
            let stillInFlight = polling.inFlightLimit - age
            progress?("a SendCommand of \(payload) went out unanswered at \(intent.attemptAt ?? intent.createdAt); looking for it in Run Command"
                      + (stillInFlight > .zero ? " (it may land for another \(Self.seconds(stillInFlight)))" : ""))
            let until = ContinuousClock.now + max(.zero, stillInFlight)
            if let found = try await look(for: intent, until: until) {
                let record = intent.record(commandId: found)
                try ledger.completeIntent(nonce: intent.nonce, command: record)
                progress?("found it as command \(found); adopted, not sent again")
                return record
            }
            try ledger.abandonIntent(nonce: intent.nonce)
            progress?("it is not in Run Command: it was never carried out")
        }
        return nil
    }

    /// Looks for the intent's command (ListCommands by its first instance, InvokedAfter its creation less a
    /// clock-skew margin, the marker in the Comment and the nonce in the parameters) until `deadline`.
    func look(for intent: CommandIntent, until deadline: ContinuousClock.Instant) async throws -> String? {
        let created = Ledger.parse(intent.createdAt) ?? Date()
        guard let instance = intent.instanceIds.first else { return nil }
        while true {
            if let command = try await ssm.findCommand(
                instanceId: instance, invokedAfter: created.addingTimeInterval(-300),
                marker: CommandIntent.marker(nonce: intent.nonce), nonce: intent.nonce) {
                return command.commandId
            }
            guard ContinuousClock.now + polling.lookInterval <= deadline else { return nil }
            try await Task.sleep(for: polling.lookInterval)
        }
    }

    /// Waits until every registered agent among `ids` is Online, within `Polling.agentOnline` (launches wait for
    /// registration themselves). Returns whether it had to wait.
    @discardableResult
    func waitForAgents(_ ids: [String], progress: (@Sendable (String) -> Void)?) async throws -> Bool {
        try await AgentWait.untilOnline(ssm: ssm, ids, configuration: polling.agentOnline, registeredOnly: true,
                                        progress: progress)
    }

    static func seconds(_ d: Duration) -> String {
        "\(Int((Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18).rounded(.up))) s"
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
        // Invocations the ledger already holds as verified need no more polling. One whose whole output stayed in S3
        // (the ledger kept Run Command's cut copy) is polled again: pollOnce reads and verifies it there.
        for inv in try ledger.invocations(commandId: command.commandId) {
            seenStatus[inv.instanceId] = inv.status
            if inv.verdict == Verdict.verified.rawValue, let output = inv.output {
                let outcome = judge(command, instanceId: inv.instanceId, status: inv.status,
                                    details: inv.statusDetails, code: inv.responseCode, output: output)
                if outcome.verdict == .verified { outcomes[inv.instanceId] = keep(outcome) }
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
        let outputs = try ledger.commandOutputs(nonce: command.nonce)
        var whereFull: [InvocationOutput] = []
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
            // The agent uploaded the whole stdout: where it is, and (when 24,000 bytes cut the envelope) read from there.
            var apiOutput: String? = nil
            if let bucket = outputs?.s3Bucket {
                let key = AgentOutputKey.key(prefix: outputs?.s3KeyPrefix, commandId: command.commandId,
                                             instanceId: inv.instanceId, pluginName: plugin?.name ?? AgentOutputKey.action)
                var fromS3 = false
                if let s3, OutputLimits.shouldReadFromS3(apiOutput: output, verdict: outcome.verdict) {
                    apiOutput = output
                    output = try await FullOutputReader(s3: s3).stdout(bucket: bucket, key: key, commandId: command.commandId,
                                                                       instanceId: inv.instanceId)
                    outcome = judge(command, instanceId: inv.instanceId, status: outcome.status,
                                    details: outcome.statusDetails, code: outcome.responseCode, output: output)
                    fromS3 = true
                }
                whereFull.append(InvocationOutput(commandId: command.commandId, instanceId: inv.instanceId,
                                                  stdoutURL: "s3://\(bucket)/\(key)", completedFromS3: fromS3))
            }
            let kept = Self.ledgerCopy(output: output, apiOutput: apiOutput,
                                       envelope: outcome.envelope, stdoutURL: whereFull.last?.stdoutURL)
            round.finished.append((outcome, InvocationRecord(
                commandId: command.commandId, instanceId: inv.instanceId, status: outcome.status,
                statusDetails: outcome.statusDetails, responseCode: outcome.responseCode, output: kept.output,
                verdict: outcome.verdict.rawValue, resultJSON: kept.resultJSON,
                finishedAt: Self.now(), updatedAt: Self.now())))
        }
        try ledger.recordInvocationOutputs(whereFull)
        return round
    }

    /// What the ledger keeps of an invocation: its output and envelope, except when the output was completed from
    /// S3 and is big (sysprep-logs' whole logs: megabytes). Then the row keeps Run Command's own copy (at most
    /// 24,000 bytes) and the envelope without its facts (`omittedFacts` names them, `wholeOutput` says where they
    /// are); the whole output stays in S3 (invocation_outputs has its URL), and a resume reads and verifies it there
    /// again. The verdict recorded is the one given to the whole output.
    static let ledgerOutputLimit = 64 * 1024

    static func ledgerCopy(output: String, apiOutput: String?, envelope: Envelope?,
                           stdoutURL: String?) -> (output: String, resultJSON: String?) {
        let json = envelope.map { CanonicalJSON.encode($0.json) }
        guard let apiOutput, output.utf8.count > ledgerOutputLimit || (json?.utf8.count ?? 0) > ledgerOutputLimit else {
            return (output, json)
        }
        guard let envelope, (json?.utf8.count ?? 0) > ledgerOutputLimit else { return (apiOutput, json) }
        var slim = envelope
        let names = (envelope.facts.objectMembers ?? []).map(\.0).sorted()
        slim.facts = .object([("omittedFacts", .array(names.map(JSONValue.string))),
                              ("wholeOutput", .string(stdoutURL ?? "in S3"))])
        return (apiOutput, CanonicalJSON.encode(slim.json))
    }

    func judge(_ command: CommandRecord, instanceId: String, status: String, details: String?, code: Int?,
               output: String) -> GuestOutcome {
        let v = EnvelopeVerifier.verify(output: output, nonce: command.nonce, payloadSha256: command.payloadSha256,
                                        instanceId: instanceId)
        let why = v.verdict == .missing ? (Self.statusReason(status: status, details: details) ?? v.reason) : v.reason
        return GuestOutcome(commandId: command.commandId, instanceId: instanceId, status: status, statusDetails: details,
                            responseCode: code, verdict: v.verdict, reason: why, envelope: v.runEnvelope)
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

/// The document version each payload version was found at, looked up once per runner: a fleet step sends one
/// command per 50 instances (100 for 5,000 clones), and each would otherwise ask DescribeDocument again. Only the
/// version number is remembered; the DocumentHash sent is built from the released bytes, and SSM checks it on every
/// SendCommand, so a version altered after the look-up is still refused.
final class DocumentPins: Sendable {
    private let found = Mutex<[String: DocumentPin]>([:])

    func pin(_ key: String, lookUp: () async throws -> DocumentPin) async throws -> DocumentPin {
        if let known = found.withLock({ $0[key] }) { return known }
        let pin = try await lookUp()
        found.withLock { $0[key] = pin }
        return pin
    }
}

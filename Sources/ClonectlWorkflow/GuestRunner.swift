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

/// Runs a payload on instances through Run Command: builds the hash-checked loader, sends it once, polls with
/// ListCommandInvocations (GetCommandInvocation only when 2,500 characters were not enough), verifies each envelope,
/// and records command and invocations in the ledger. A step that already has a verified result is not sent again;
/// a command that was sent but not seen to finish is polled again, not re-sent.
public struct GuestRunner: Sendable {
    public struct Polling: Sendable {
        public var firstDelay: Duration = .seconds(2)
        public var maxDelay: Duration = .seconds(20)
        /// Run Command's delivery timeout (SendCommand TimeoutSeconds).
        public var deliveryTimeoutSeconds = 600
        /// How long the whole command may take before clonectl gives up on it.
        public var overallTimeout: Duration = .seconds(2 * 3600)
        public init() {}
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
    public func run(payload reference: String, params: LoaderParams, instanceIds: [String], step: String,
                    runId: String?, reuse: Bool = true,
                    progress: (@Sendable (String) -> Void)? = nil) async throws -> [GuestOutcome] {
        guard !instanceIds.isEmpty, instanceIds.count <= SSMClient.maxInstancesPerCommand else {
            throw WorkflowError.precondition("a guest step goes to 1 to 50 instances per command, got \(instanceIds.count)")
        }
        let entry = try store.resolve(reference)
        if let runId, reuse, let earlier = try earlierCommand(runId: runId, step: step, payload: entry.name, instanceIds: instanceIds) {
            let judged = try ledger.invocations(commandId: earlier.commandId).filter { $0.verdict != nil }
            if judged.count < earlier.instanceIds.count {
                // Sent before a crash and not seen to finish: poll it, never send it twice.
                progress?("resuming command \(earlier.commandId) sent at \(earlier.sentAt)")
                return try await poll(earlier, progress: progress)
            }
            let outcomes = try await poll(earlier, progress: nil)
            if outcomes.allSatisfy(\.succeeded) {
                progress?("already done by command \(earlier.commandId) (verified); not sent again")
                return outcomes
            }
            // It finished and failed somewhere: a resumed run tries again with a new command.
        }
        let loader = try LoaderBuilder.build(store: store, reference: "\(entry.name)@\(entry.version)", params: params)
        let command = try await ssm.sendCommand(SendCommandInput(
            instanceIds: instanceIds, parameters: ["commands": [loader.text]],
            comment: String("clonectl \(step) \(entry.name)@\(entry.version)".prefix(100)),
            timeoutSeconds: polling.deliveryTimeoutSeconds))
        let record = CommandRecord(
            commandId: command.commandId, runId: runId, step: step, payload: entry.name, version: entry.version,
            payloadSha256: loader.record.payloadSha256, nonce: loader.record.nonce, instanceIds: instanceIds,
            parametersJSON: loader.record.paramsJSON, sentAt: Self.now())
        try ledger.recordCommand(record)
        progress?("sent \(entry.name)@\(entry.version) as command \(command.commandId) to \(instanceIds.count) instance(s)")
        return try await poll(record, progress: progress)
    }

    /// The newest command of this step that covers the same instances; nil when it must be sent anew.
    func earlierCommand(runId: String, step: String, payload: String, instanceIds: [String]) throws -> CommandRecord? {
        try ledger.commands(runId: runId, step: step).reversed()
            .first { $0.payload == payload && Set($0.instanceIds) == Set(instanceIds) }
    }

    /// Polls until every instance's invocation is terminal, then verifies and records each.
    func poll(_ command: CommandRecord, progress: (@Sendable (String) -> Void)?) async throws -> [GuestOutcome] {
        var outcomes: [String: GuestOutcome] = [:]
        // Invocations the ledger already holds as verified need no more polling.
        for inv in try ledger.invocations(commandId: command.commandId) where inv.verdict == Verdict.verified.rawValue {
            if let output = inv.output {
                outcomes[inv.instanceId] = judge(command, instanceId: inv.instanceId, status: inv.status,
                                                 details: inv.statusDetails, code: inv.responseCode, output: output)
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now + polling.overallTimeout
        var delay = polling.firstDelay
        var notYetListed = 0
        var transientFailures = 0
        while outcomes.count < command.instanceIds.count {
            try Task.checkCancellation()
            let invocations: [CommandInvocation]
            do {
                invocations = try await ssm.listAllCommandInvocations(commandId: command.commandId, details: true)
                transientFailures = 0
            } catch let error as AWSError where error.isTransient && transientFailures < Waiter.maxTransientFailures {
                // A poll that failed after its own retries is tried again next round; the command is still running.
                transientFailures += 1
                progress?("polling \(command.commandId) failed (\(error.code)), trying again")
                try await Task.sleep(for: delay)
                continue
            }
            if invocations.isEmpty { notYetListed += 1 }
            for inv in invocations where outcomes[inv.instanceId] == nil {
                guard let status = inv.invocationStatus, status.isTerminal else {
                    try ledger.recordInvocation(InvocationRecord(commandId: command.commandId, instanceId: inv.instanceId,
                                                                 status: inv.status, statusDetails: inv.statusDetails,
                                                                 updatedAt: Self.now()))
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
                try ledger.recordInvocation(InvocationRecord(
                    commandId: command.commandId, instanceId: inv.instanceId, status: outcome.status,
                    statusDetails: outcome.statusDetails, responseCode: outcome.responseCode, output: output,
                    verdict: outcome.verdict.rawValue, resultJSON: outcome.envelope.map { CanonicalJSON.encode($0.json) },
                    finishedAt: Self.now(), updatedAt: Self.now()))
                progress?("\(inv.instanceId): \(outcome.status), envelope \(outcome.verdict.rawValue)")
                outcomes[inv.instanceId] = outcome
            }
            if outcomes.count == command.instanceIds.count { break }
            if notYetListed > 30 {
                throw WorkflowError.guest("command \(command.commandId) lists no invocations after \(notYetListed) polls")
            }
            guard clock.now + delay < deadline else {
                throw WorkflowError.guest("command \(command.commandId) did not finish on every instance within \(polling.overallTimeout); it is recorded, so `clonectl run` can resume polling it")
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 3 / 2, polling.maxDelay)
        }
        return command.instanceIds.compactMap { outcomes[$0] }
    }

    func judge(_ command: CommandRecord, instanceId: String, status: String, details: String?, code: Int?,
               output: String) -> GuestOutcome {
        let v = EnvelopeVerifier.verify(output: output, nonce: command.nonce, payloadSha256: command.payloadSha256)
        return GuestOutcome(commandId: command.commandId, instanceId: instanceId, status: status, statusDetails: details,
                            responseCode: code, verdict: v.verdict, reason: v.reason, envelope: v.envelope)
    }

    static func now() -> String { Ledger.format(Date()) }
}

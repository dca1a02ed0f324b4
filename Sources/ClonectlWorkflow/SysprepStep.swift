import AWSCore
import ClonectlAgent
import ClonectlPlan
import Foundation

/// Runs Sysprep on the work copy through the matching EC2Launch flavour. The payload reports BEFORE Sysprep starts;
/// completion is the instance reaching `stopped`. When it never stops, the Sysprep logs are fetched if it still answers.
public struct SysprepStep: WorkflowStep {
    public let name = StepName.sysprep
    let services: StepServices
    let guest: GuestRunner
    public init(services: StepServices, guest: GuestRunner) {
        self.services = services
        self.guest = guest
    }

    public func describe(plan: Plan, state: RunState) -> [String] {
        ["guest sysprep on \(state.workCopyInstanceId ?? "the work copy") (refuses when a blocker is present)",
         "wait until the work copy is stopped (at most \(plan.sysprep.shutdownTimeoutMinutes) min)"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard let id = state.workCopyInstanceId else {
            throw WorkflowError.precondition("no work copy yet: run launch-work-copy first")
        }
        let current = try await services.ec2.describeAllInstances(instanceIds: [id]).first
        if current?.stateName != .stopped {
            try await GuestCall(guest: guest).require("sysprep", try .plain([("Shutdown", .bool(true))]), on: [id],
                                                      step: name, context: context)
        }
        var wait = services.waits.instance
        wait.timeout = services.waits.sysprepShutdown ?? .seconds(context.plan.sysprep.shutdownTimeoutMinutes * 60)
        do {
            try await context.waiting(name, "sysprep-shutdown", id, for: "\(id) to stop after Sysprep", limit: wait.timeout) {
                try await services.ec2.waitForInstances([id], toBe: .stopped, configuration: wait) { s in context.progress(name, s) }
            }
        } catch let error as AWSError where error.code == "WaiterTimeout" {
            throw WorkflowError.guest("Sysprep did not shut \(id) down within \(services.waits.sysprepShutdown.map(WaitText.limit) ?? "\(context.plan.sysprep.shutdownTimeoutMinutes) min"). "
                                      + (await logs(id, context: context)))
        }
    }

    /// Panther's logs, when the instance still answers Run Command: their tails, or (sysprep-logs 1.2.0 and newer,
    /// when the command's output goes to an S3 bucket) the logs whole, saved to files under the ledger's folder.
    func logs(_ id: String, context: StepContext) async -> String {
        do {
            let reference = context.plan.payloadReference("sysprep-logs")
            let runner = guest.with(delivery: context.plan.delivery)
            let whole = Self.sendsWhole(version: try runner.store.resolve(reference).version, output: runner.output)
            let params: LoaderParams = whole ? try .plain([("Whole", .bool(true))]) : .empty
            let outcome = try await runner.run(payload: reference, params: params, instanceIds: [id],
                                              step: "sysprep-logs", runId: context.runId, reuse: false)
            // agent-docs/sysprep-logs.md: facts.logs = [{path, lines, omitted}].
            let logs = outcome.first?.envelope?.facts["logs"]?.arrayValue ?? []
            let setuperr = logs.first { ($0["path"]?.stringValue ?? "").lowercased().hasSuffix("setuperr.log") }
            let tail = setuperr?["lines"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var text = tail.isEmpty ? "No Sysprep errors were logged; see `clonectl show \(outcome.first?.commandId ?? "")`."
                : "setuperr.log ends with:\n  " + tail.suffix(10).joined(separator: "\n  ")
            if whole, let first = outcome.first, first.envelope != nil {
                let saved = try Self.save(logs, commandId: first.commandId, instanceId: id, runId: context.runId,
                                          ledgerPath: context.ledger.path)
                let url = try context.ledger.invocationOutputs(commandId: first.commandId)
                    .first { $0.instanceId == id }?.stdoutURL
                text = "Its whole Sysprep logs were saved to:\n  " + saved.joined(separator: "\n  ")
                    + "\n(the whole output of command \(first.commandId): \(url ?? "in the output bucket"), envelope verified)\n" + text
            }
            return text
        } catch {
            return "Its Sysprep logs could not be read (\(error)); look at %WINDIR%\\System32\\Sysprep\\Panther on the instance."
        }
    }

    /// Whole logs only where they can come back: sysprep-logs 1.2.0 or newer, and a bucket the agent uploads the
    /// whole output to (Run Command keeps 24,000 characters). A plan pinning 1.1.0 keeps tails.
    static func sendsWhole(version: String, output: Plan.Output?) -> Bool {
        guard output?.s3Bucket != nil, let v = SemanticVersion(version), let since = SemanticVersion("1.2.0") else { return false }
        return v >= since
    }

    /// Writes each returned log to `<ledger folder>/sysprep-logs/<run or command>/<instance>/<path as a name>`, one line
    /// per line; returns "file (N lines, M omitted)" per log.
    static func save(_ logs: [JSONValue], commandId: String, instanceId: String, runId: String?,
                     ledgerPath: String) throws -> [String] {
        let base = URL(fileURLWithPath: ledgerPath).deletingLastPathComponent()
            .appendingPathComponent("sysprep-logs", isDirectory: true)
            .appendingPathComponent(runId ?? commandId, isDirectory: true)
            .appendingPathComponent(instanceId, isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        var saved: [String] = []
        for log in logs {
            let path = log["path"]?.stringValue ?? "log"
            let lines = log["lines"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let omitted = log["omitted"].flatMap { v -> Int64? in if case .int(let n) = v { return n } else { return nil } } ?? 0
            let name = String(path.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
                .trimmingCharacters(in: CharacterSet(charactersIn: "_"))
            let file = base.appendingPathComponent(name.isEmpty ? "log" : name)
            try Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8).write(to: file, options: .atomic)
            saved.append("\(file.path) (\(lines.count) lines of \(path)\(omitted > 0 ? ", \(omitted) older lines omitted" : ""))")
        }
        return saved
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

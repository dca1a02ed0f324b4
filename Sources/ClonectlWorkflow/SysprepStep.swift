import AWSCore
import ClonectlAgent
import ClonectlPlan

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
        wait.timeout = .seconds(context.plan.sysprep.shutdownTimeoutMinutes * 60)
        do {
            try await context.waiting(name, "sysprep-shutdown", id, for: "\(id) to stop after Sysprep", limit: wait.timeout) {
                try await services.ec2.waitForInstances([id], toBe: .stopped, configuration: wait) { s in context.progress(name, s) }
            }
        } catch let error as AWSError where error.code == "WaiterTimeout" {
            throw WorkflowError.guest("Sysprep did not shut \(id) down within \(context.plan.sysprep.shutdownTimeoutMinutes) min. "
                                      + (await logs(id, context: context)))
        }
    }

    /// The tail of Panther's logs, when the instance still answers Run Command.
    func logs(_ id: String, context: StepContext) async -> String {
        do {
            let outcome = try await guest.with(delivery: context.plan.delivery).run(payload: context.plan.payloadReference("sysprep-logs"), params: .empty, instanceIds: [id],
                                              step: "sysprep-logs", runId: context.runId, reuse: false)
            // agent-docs/sysprep-logs.md: facts.logs = [{path, lines, omitted}].
            let logs = outcome.first?.envelope?.facts["logs"]?.arrayValue ?? []
            let setuperr = logs.first { ($0["path"]?.stringValue ?? "").lowercased().hasSuffix("setuperr.log") }
            let tail = setuperr?["lines"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return tail.isEmpty ? "No Sysprep errors were logged; see `clonectl show \(outcome.first?.commandId ?? "")`."
                : "setuperr.log ends with:\n  " + tail.suffix(10).joined(separator: "\n  ")
        } catch {
            return "Its Sysprep logs could not be read (\(error)); look at %WINDIR%\\System32\\Sysprep\\Panther on the instance."
        }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

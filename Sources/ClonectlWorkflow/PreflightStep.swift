import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Read-only report on the source: what would block cloning or Sysprep. Records the source's machine SID.
public struct PreflightStep: WorkflowStep {
    public let name = StepName.preflight
    let call: GuestCall
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

    public func describe(plan: Plan, state: RunState) -> [String] {
        ["guest preflight on \(plan.source.instanceId) (read-only: Sysprep blockers, EC2Launch, SID)"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        let outcome = try await call.require("preflight", .empty, on: [state.sourceInstanceId], step: name, context: context)
        let facts = outcome.first?.envelope?.facts
        // Facts as agent-docs/preflight.md documents them.
        state.sourceMachineSid = facts?["windows"]?["machineSid"]?.stringValue
        let blockers = facts?["sysprepBlockers"]?.arrayValue?.map { b in
            "\(b["id"]?.stringValue ?? "?"): \(b["reason"]?.stringValue ?? "")"
        } ?? []
        guard blockers.isEmpty else {
            throw WorkflowError.precondition("the source has what blocks Sysprep: \(blockers.joined(separator: "; ")); fix it on the source and run again")
        }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

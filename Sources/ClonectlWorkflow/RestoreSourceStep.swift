import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Puts the source back once its AMI exists: starts it if this run stopped it, then undoes prep from the journal.
public struct RestoreSourceStep: WorkflowStep {
    public let name = StepName.restoreSource
    let services: StepServices
    let call: GuestCall
    public init(services: StepServices, guest: GuestRunner) {
        self.services = services
        call = GuestCall(guest: guest)
    }

    public func describe(plan: Plan, state: RunState) -> [String] {
        let what = plan.prep.accessAidsOn == .source ? "firewall, jobs, work user" : "jobs"
        return ["ec2 StartInstances \(plan.source.instanceId) if this run stopped it; wait running and SSM Online",
                "guest source-restore on \(plan.source.instanceId) (\(what), from the journal)"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        let id = state.sourceInstanceId
        if state.sourceStoppedByUs {
            let current = try await services.ec2.describeAllInstances(instanceIds: [id]).first
            if current?.stateName == .stopped || current?.stateName == .stopping {
                try await services.ec2.waitForInstances([id], toBe: .stopped, configuration: services.waits.instance)
                _ = try await services.ec2.startInstances([id])
            }
            try await InstanceLauncher(services: services).waitUntilManaged([id], step: name, context: context)
            state.sourceStoppedByUs = false
            try context.checkpoint(state)
        }
        guard PrepStep.sourceCalls(context.plan).isEmpty == false else { return }
        try await call.require("source-restore", .empty, on: [id], step: name, context: context)
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

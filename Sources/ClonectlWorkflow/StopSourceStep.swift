import AWSCore
import ClonectlPlan

/// Stops the live source so its AMI is consistent. Undo: start it again (production must come back).
public struct StopSourceStep: WorkflowStep {
    public let name = StepName.stopSource
    let services: StepServices
    public init(services: StepServices) { self.services = services }

    public func describe(plan: Plan, state: RunState) -> [String] {
        ["ec2 StopInstances \(plan.source.instanceId)", "wait until \(plan.source.instanceId) is stopped"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        let id = state.sourceInstanceId
        guard let source = try await services.ec2.describeAllInstances(instanceIds: [id]).first else {
            throw WorkflowError.precondition("the source \(id) no longer exists")
        }
        switch source.stateName {
        case .stopped:
            context.progress(name, "\(id) is already stopped")
            return
        case .stopping:
            // Already on its way down: by this run before a crash (the flag is saved) or by someone else (then
            // this run must not start it again afterwards). Either way the flag stays as it is.
            try await context.waiting(name, "stopping", id, for: "the source \(id) to stop", limit: services.waits.instance.timeout) {
                try await services.ec2.waitForInstances([id], toBe: .stopped, configuration: services.waits.instance)
            }
            return
        case .running, .pending:
            break
        case .terminated, .shuttingDown, .none:
            throw WorkflowError.precondition("the source \(id) is \(source.state); it cannot be imaged")
        }
        // Remembered before the call: a crash right after StopInstances must still lead to a restart.
        state.sourceStoppedByUs = true
        try context.checkpoint(state)
        _ = try await services.ec2.stopInstances([id])
        try await context.waiting(name, "stopping", id, for: "the source \(id) to stop", limit: services.waits.instance.timeout) {
            try await services.ec2.waitForInstances([id], toBe: .stopped, configuration: services.waits.instance) { s in
                context.progress(name, s)
            }
        }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        guard state.sourceStoppedByUs else { return }
        let id = state.sourceInstanceId
        try await services.ec2.waitForInstances([id], toBe: .stopped, configuration: services.waits.instance)
        _ = try await services.ec2.startInstances([id])
        context.progress(name, "started the source \(id) again")
    }
}

import AWSCore
import ClonectlLedger

/// Launches one instance at most once: RunInstances with a client token derived from the run and the purpose, so a
/// repeated call after a crash returns the same instance instead of a second one.
struct InstanceLauncher: Sendable {
    let services: StepServices

    func launch(_ input: RunInstancesInput, purpose: String, step: StepName, context: StepContext) async throws -> String {
        var input = input
        input.clientToken = RunTags.clientToken(runId: context.runId, purpose: purpose)
        let reservation = try await services.ec2.runInstances(input)
        guard let instance = reservation.instances.first else {
            throw WorkflowError.invariant("RunInstances for \(purpose) answered with no instance")
        }
        try context.ledger.recordResource(runId: context.runId, kind: "instance", id: instance.instanceId, step: step.rawValue)
        // For the report's lineage; a ledger hiccup here must not fail a launch that AWS already made.
        try? context.ledger.recordResourceDetail(kind: "instance", id: instance.instanceId,
                                                 ["purpose": purpose, "privateIp": instance.privateIpAddress ?? ""])
        return instance.instanceId
    }

    /// Waits for `running`, then for the SSM agents, of one instance or a fleet.
    func waitUntilManaged(_ ids: [String], step: StepName, context: StepContext) async throws {
        guard !ids.isEmpty else { return }
        let named = ids.count == 1 ? ids[0] : "\(ids.count) instances"
        try await context.waiting(step, "booting", named, for: "\(named) to be running", limit: services.waits.instance.timeout) {
            try await services.ec2.waitForInstances(ids, toBe: .running, configuration: services.waits.instance) { state in
                context.progress(step, state)
            }
        }
        try await context.waiting(step, "agent-online", named, for: "the SSM agent on \(named) to be Online", limit: services.waits.agentOnline.timeout) {
            try await services.waitForAgents(ids) { state in
                context.progress(step, ids.count == 1 ? "\(ids[0]): \(state)" : state)
            }
        }
    }
}

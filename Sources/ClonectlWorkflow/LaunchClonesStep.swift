import AWSCore
import ClonectlPlan

/// Launches every clone from the master AMI (one client token each), then waits until each is managed by SSM.
/// Undo: terminate the clones.
public struct LaunchClonesStep: WorkflowStep {
    public let name = StepName.launchClones
    let services: StepServices
    public init(services: StepServices) { self.services = services }

    public func describe(plan: Plan, state: RunState) -> [String] {
        plan.clones.map { c in
            "ec2 RunInstances \(c.name) from \(state.masterImageId ?? "the master image") in \(c.subnetId)\(c.privateIp.map { " at \($0)" } ?? ""), client token per clone"
        } + ["wait until every clone is running and its SSM agent is Online"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard let image = state.masterImageId else {
            throw WorkflowError.precondition("no master image yet: run the master-image step first")
        }
        let launcher = InstanceLauncher(services: services)
        let plan = context.plan
        for clone in plan.clones where state.clones[clone.name] == nil {
            var input = RunInstancesInput(imageId: image, instanceType: clone.instanceType ?? plan.workCopy.instanceType ?? "m5.large")
            input.subnetId = clone.subnetId
            input.privateIpAddress = clone.privateIp
            input.securityGroupIds = clone.securityGroupIds
            input.iamInstanceProfile = clone.instanceProfile ?? plan.workCopy.instanceProfile
            let tags = clone.tags.sorted { $0.key < $1.key }.map { EC2Tag($0.key, $0.value) }
                + RunTags.tags(runId: context.runId, plan: plan.name, role: "clone")
                + [EC2Tag("Name", clone.name), EC2Tag("clonectl:clone", clone.name)]
            input.tagSpecifications = [EC2TagSpecification(resourceType: "instance", tags: tags)]
            state.clones[clone.name] = try await launcher.launch(input, purpose: "clone-\(clone.name)", step: name, context: context)
            try context.checkpoint(state)
            context.progress(name, "\(clone.name): \(state.clones[clone.name] ?? "?")")
        }
        for clone in plan.clones {
            guard let id = state.clones[clone.name] else { continue }
            try await launcher.waitUntilManaged(id, step: name, context: context)
        }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        let ids = state.clones.values.sorted()
        guard !ids.isEmpty else { return }
        _ = try await services.ec2.terminateInstances(ids)
        for id in ids { try context.ledger.markResourceDeleted(kind: "instance", id: id) }
    }
}

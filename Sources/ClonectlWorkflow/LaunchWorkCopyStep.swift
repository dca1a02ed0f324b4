import AWSCore
import ClonectlPlan

/// Boots the working copy from the source AMI in the isolated subnet, and waits until Run Command can reach it.
/// Undo: terminate it.
public struct LaunchWorkCopyStep: WorkflowStep {
    public let name = StepName.launchWorkCopy
    let services: StepServices
    public init(services: StepServices) { self.services = services }

    public func describe(plan: Plan, state: RunState) -> [String] {
        let w = plan.workCopy
        return ["ec2 RunInstances from \(state.sourceImageId ?? "the source image") in \(w.subnetId) (\(w.securityGroupIds.joined(separator: ", "))), profile \(w.instanceProfile), client token per run",
                "wait until running, then until its SSM agent is Online"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard let image = state.sourceImageId else {
            throw WorkflowError.precondition("no source image yet: run the image-source step first")
        }
        let launcher = InstanceLauncher(services: services)
        if state.workCopyInstanceId == nil {
            let w = context.plan.workCopy
            var input = RunInstancesInput(imageId: image, instanceType: w.instanceType ?? "m5.large")
            input.subnetId = w.subnetId
            input.securityGroupIds = w.securityGroupIds
            input.iamInstanceProfile = w.instanceProfile
            input.tagSpecifications = [EC2TagSpecification(resourceType: "instance", tags:
                RunTags.tags(runId: context.runId, plan: context.plan.name, role: "work-copy")
                + [EC2Tag("Name", "clonectl-\(context.plan.name)-work-copy")])]
            state.workCopyInstanceId = try await launcher.launch(input, purpose: "work-copy", step: name, context: context)
            try context.checkpoint(state)
        }
        guard let id = state.workCopyInstanceId else { return }
        context.progress(name, "work copy \(id)")
        try await launcher.waitUntilManaged([id], step: name, context: context)
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        guard let id = state.workCopyInstanceId else { return }
        try await OwnedResources(ec2: services.ec2).terminate([id], roles: ["work-copy"], context: context)
    }
}

import AWSCore
import ClonectlPlan

/// The end of a run: terminate the work copy and, if the plan says so, remove the source's intermediate AMI.
/// The master image and the clones are the product and are never touched here.
public struct CleanupStep: WorkflowStep {
    public let name = StepName.cleanup
    let services: StepServices
    public init(services: StepServices) { self.services = services }

    public func describe(plan: Plan, state: RunState) -> [String] {
        var lines: [String] = []
        if plan.cleanup.terminateWorkCopy { lines.append("ec2 TerminateInstances \(state.workCopyInstanceId ?? "the work copy")") }
        if plan.cleanup.deregisterSourceImage {
            lines.append("ec2 DeregisterImage \(state.sourceImageId ?? "the source image") and DeleteSnapshot of its snapshots")
        }
        return lines.isEmpty ? ["nothing: the plan keeps the work copy and the source image"] : lines
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        let plan = context.plan
        if plan.cleanup.terminateWorkCopy, let id = state.workCopyInstanceId {
            try await OwnedResources(ec2: services.ec2).terminate([id], roles: ["work-copy"], context: context)
            context.progress(name, "terminated the work copy \(id)")
        }
        if plan.cleanup.deregisterSourceImage, let id = state.sourceImageId {
            try await ImageMaker(services: services).remove(imageId: id, snapshotIds: state.sourceSnapshotIds, context: context)
            context.progress(name, "removed the source image \(id)")
        }
    }

    /// Nothing to undo: cleanup only removes.
    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

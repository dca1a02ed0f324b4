import AWSCore
import ClonectlPlan
import Foundation

/// Creates the "production AMI" of the stopped source (once per run) and waits until it is available.
/// Undo: deregister it and delete its snapshots.
public struct ImageSourceStep: WorkflowStep {
    public let name = StepName.imageSource
    let services: StepServices
    public init(services: StepServices) { self.services = services }

    public func describe(plan: Plan, state: RunState) -> [String] {
        let id = state.sourceImageId.map { "reuse image \($0)" } ?? "ec2 DescribeImages (this run's source image, by tag), else ec2 CreateImage from \(plan.source.instanceId)"
        return [id, "wait until the image is available"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        var s = state
        let image = try await ImageMaker(services: services).ensureImage(
            role: "source", from: state.sourceInstanceId,
            name: "clonectl-\(context.plan.name)-source-\(context.runId)",
            description: "clonectl \(context.runId): source \(state.sourceInstanceId) before Sysprep",
            extraTags: [EC2Tag("clonectl:source-instance", state.sourceInstanceId)],
            known: state.sourceImageId,
            previous: state.imageNames?["source"].map { ImageMaker.Attempt(name: $0, attemptAt: state.imageAttempts?["source"]) },
            step: name, context: context,
            noteAttempt: { attempt in
                s.imageNames = (s.imageNames ?? [:]).merging(["source": attempt.name]) { $1 }
                s.imageAttempts = (s.imageAttempts ?? [:]).merging(["source": attempt.attemptAt ?? ""]) { $1 }
                try context.checkpoint(s)
            }) { id in
            s.sourceImageId = id
            try context.checkpoint(s)
        }
        state = s
        state.sourceSnapshotIds = image.snapshotIds
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        guard let id = state.sourceImageId else { return }
        try await ImageMaker(services: services).remove(imageId: id, snapshotIds: state.sourceSnapshotIds, context: context)
    }
}

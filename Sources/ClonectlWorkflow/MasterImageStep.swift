import AWSCore
import ClonectlPlan
import Foundation

/// Creates the master AMI from the stopped, generalized work copy, with lineage tags (source instance, source AMI,
/// run). Undo: deregister it and delete its snapshots.
public struct MasterImageStep: WorkflowStep {
    public let name = StepName.masterImage
    let services: StepServices
    /// Payload name@version used on this run, for the lineage tag.
    let payloadVersions: String
    public init(services: StepServices, payloadVersions: String) {
        self.services = services
        self.payloadVersions = payloadVersions
    }

    public func describe(plan: Plan, state: RunState) -> [String] {
        // Placeholders expanded as the run will (the run id is known only once the run is recorded).
        ["ec2 DescribeImages (this run's master image, by tag), else ec2 CreateImage '\(Self.expand(plan.masterImage.name, plan: plan.name, runId: "<run id>"))' from the stopped work copy",
         "wait until the image is available"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard let workCopy = state.workCopyInstanceId else {
            throw WorkflowError.precondition("no work copy yet: run launch-work-copy and sysprep first")
        }
        let plan = context.plan
        let imageName = Self.expand(plan.masterImage.name, plan: plan.name, runId: context.runId)
        var tags = plan.masterImage.tags.sorted { $0.key < $1.key }.map { EC2Tag($0.key, $0.value) }
        tags += [EC2Tag("clonectl:source-instance", state.sourceInstanceId),
                 EC2Tag("clonectl:source-image", state.sourceImageId ?? "unknown"),
                 EC2Tag("clonectl:payloads", String(payloadVersions.prefix(256)))]
        var s = state
        let image = try await ImageMaker(services: services).ensureImage(
            role: "master", from: workCopy, name: imageName,
            description: plan.masterImage.description ?? "clonectl master image of \(state.sourceInstanceId), run \(context.runId)",
            extraTags: tags, known: state.masterImageId,
            previous: state.imageNames?["master"].map { ImageMaker.Attempt(name: $0, attemptAt: state.imageAttempts?["master"]) },
            step: name, context: context,
            noteAttempt: { attempt in
                s.imageNames = (s.imageNames ?? [:]).merging(["master": attempt.name]) { $1 }
                s.imageAttempts = (s.imageAttempts ?? [:]).merging(["master": attempt.attemptAt ?? ""]) { $1 }
                try context.checkpoint(s)
            }) { id in
            s.masterImageId = id
            try context.checkpoint(s)
        }
        state = s
        state.masterSnapshotIds = image.snapshotIds
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        guard let id = state.masterImageId else { return }
        try await ImageMaker(services: services).remove(imageId: id, snapshotIds: state.masterSnapshotIds, context: context)
    }

    /// `{plan}`, `{runId}` and `{date}` (UTC yyyy-MM-dd) in the plan's image name.
    static func expand(_ template: String, plan: String, runId: String, now: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return template.replacingOccurrences(of: "{plan}", with: plan).replacingOccurrences(of: "{runId}", with: runId)
            .replacingOccurrences(of: "{date}", with: f.string(from: now))
    }
}

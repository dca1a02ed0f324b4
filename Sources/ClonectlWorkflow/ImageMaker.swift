import AWSCore
import ClonectlLedger

/// Creates an AMI at most once per run and role: CreateImage has no client token, so before creating one the run
/// looks for its own image by tag, and records the id the moment AWS returns it.
struct ImageMaker: Sendable {
    let services: StepServices

    /// Returns the available image for `role`, creating it from `instanceId` only if the run has none yet.
    func ensureImage(role: String, from instanceId: String, name: String, description: String,
                     extraTags: [EC2Tag], known: String?, step: StepName, context: StepContext,
                     remember: (String) throws -> Void) async throws -> EC2Image {
        let ec2 = services.ec2
        var imageId = known
        if imageId == nil, let existing = try await findOwn(role: role, context: context) {
            context.progress(step, "found this run's \(role) image \(existing); not creating another")
            imageId = existing
        }
        if imageId == nil {
            let tags = RunTags.tags(runId: context.runId, plan: context.plan.name, role: role) + extraTags
            do {
                // Snapshots are tagged once they are known (below): moto cannot take a snapshot tag specification here.
                let id = try await ec2.createImage(
                    instanceId: instanceId, name: name, description: description,
                    tagSpecifications: [EC2TagSpecification(resourceType: "image", tags: tags)])
                imageId = id
                context.progress(step, "creating image \(id) from \(instanceId)")
            } catch let error as AWSError where error.kind == .transport {
                // The answer was lost: the image may exist. Look before anything else is tried.
                guard let existing = try await findOwn(role: role, context: context) else { throw error }
                context.progress(step, "the CreateImage answer was lost, but image \(existing) exists; using it")
                imageId = existing
            }
            if let imageId {
                try context.ledger.recordResource(runId: context.runId, kind: "image", id: imageId, step: step.rawValue)
            }
        }
        guard let imageId else { throw WorkflowError.invariant("no image id after create") }
        try? context.ledger.recordResourceDetail(kind: "image", id: imageId, ["name": name, "role": role])
        try remember(imageId)
        let image = try await context.waiting(step, "image-pending", imageId, for: "\(role) image \(imageId) to be available", limit: services.waits.image.timeout) {
            try await ec2.waitForImageAvailable(imageId, configuration: services.waits.image) { state in
                context.progress(step, "\(imageId): \(state)")
            }
        }
        for snapshot in image.snapshotIds {
            try context.ledger.recordResource(runId: context.runId, kind: "snapshot", id: snapshot, step: step.rawValue)
        }
        if !image.snapshotIds.isEmpty {
            try await ec2.createTags(resourceIds: image.snapshotIds,
                                     tags: RunTags.tags(runId: context.runId, plan: context.plan.name, role: role))
        }
        return image
    }

    /// This run's usable image of `role`, found by its tags (CreateImage has no client token).
    func findOwn(role: String, context: StepContext) async throws -> String? {
        try await services.ec2.describeImages(owners: ["self"], filters: RunTags.filters(runId: context.runId, role: role))
            .first { ![.failed, .deregistered, .invalid, .error].contains($0.stateName) }?.imageId
    }

    /// Deregisters an image this run made and deletes its snapshots, once AWS reports the image with the run's tags
    /// (OwnedResources). The snapshots deleted are those AWS lists in the image; `snapshotIds` from the run state are
    /// only recorded as gone when the image is, never deleted on the ledger's word alone.
    func remove(imageId: String, snapshotIds: [String], context: StepContext) async throws {
        let ec2 = services.ec2
        let roles: Set<String> = ["source", "master"]
        guard let current = try await OwnedResources(ec2: ec2).image(imageId, runId: context.runId, roles: roles) else {
            try context.ledger.markResourceDeleted(kind: "image", id: imageId)
            if !snapshotIds.isEmpty {
                try? context.ledger.event(runId: context.runId, level: "warning", step: nil,
                                          "image \(imageId) is already gone; its snapshots \(snapshotIds.joined(separator: ", ")) are not deleted on the ledger's word alone (check them in the console)")
            }
            return
        }
        try await ec2.deregisterImage(imageId)
        try context.ledger.markResourceDeleted(kind: "image", id: imageId)
        for snapshot in current.snapshotIds {
            try await ec2.deleteSnapshot(snapshot)
            try context.ledger.markResourceDeleted(kind: "snapshot", id: snapshot)
        }
    }
}

public enum WorkflowError: Error, Sendable, CustomStringConvertible {
    case invariant(String)
    case precondition(String)
    case guest(String)

    public var description: String {
        switch self {
        case .invariant(let m): return "internal error: \(m)"
        case .precondition(let m), .guest(let m): return m
        }
    }
}

import AWSCore
import ClonectlLedger
import Foundation

/// Creates an AMI at most once per run and role. CreateImage has no client token, so: the name is fixed per run and
/// role (recorded in the run state before the first attempt), EC2 refuses a second image of that name
/// (InvalidAMIName.Duplicate, which here means "this run's image exists: adopt it"), the run looks for its image by
/// tag and name before creating one, and the id is recorded the moment it is known.
///
/// The image and its snapshots get the run's tags from CreateImage itself (TagSpecification `image` and `snapshot`),
/// never from a CreateTags afterwards: the controller policy requires those request tags on both resources CreateImage
/// creates and lets CreateTags write a snapshot's tags only as part of CreateImage (`ec2:CreateAction`), so a
/// snapshot can carry `clonectl:role` only if clonectl's CreateImage made it, and DeleteSnapshot's tag condition
/// means "a snapshot a clonectl run made".
///
/// An image made by an older clonectl (before this) whose process stopped between CreateImage and its CreateTags has
/// snapshots without tags. A resumed run adopts such an image as it is: it does not tag the snapshots (the policy no
/// longer allows tagging an existing snapshot, and that is the point), it warns, and cleanup deregisters the image
/// but deletes only the snapshots carrying this run's tags, naming the others for an operator to delete.
struct ImageMaker: Sendable {
    let services: StepServices

    /// Where the run stands with one role's image: its fixed name and its latest attempt, if any.
    struct Attempt: Sendable {
        var name: String
        var attemptAt: String?
    }

    /// Returns the available image for `role`, creating it from `instanceId` only if the run has none yet.
    /// `previous`: the name and attempt recorded by an earlier process; `noteAttempt` records them before a
    /// CreateImage goes out; `remember` records the id.
    func ensureImage(role: String, from instanceId: String, name proposed: String, description: String,
                     extraTags: [EC2Tag], known: String?, previous: Attempt?, step: StepName, context: StepContext,
                     noteAttempt: (Attempt) throws -> Void, remember: (String) throws -> Void) async throws -> EC2Image {
        let ec2 = services.ec2
        let name = previous?.name ?? proposed
        var imageId = known
        var createdHere = false
        if imageId == nil, let existing = try await findOwn(role: role, name: name, context: context) {
            context.progress(step, "found this run's \(role) image \(existing); not creating another")
            imageId = existing
        }
        // A previous process may have a CreateImage in flight that has not landed yet: look again until it could
        // have landed (the name would refuse a second one anyway; this keeps the first one's answer ours).
        if imageId == nil, let at = previous?.attemptAt.flatMap(Ledger.parse) {
            let left = services.waits.imageInFlight - .milliseconds(Int64(max(0, Date().timeIntervalSince(at)) * 1000))
            if left > .zero {
                context.progress(step, "a CreateImage of \(name) went out at \(previous?.attemptAt ?? "") unanswered; looking for it for \(left)")
                imageId = try await lookAgain(role: role, name: name, context: context, for: left)
                if let imageId { context.progress(step, "it landed as \(imageId); adopted") }
            }
        }
        var sends = 0
        while imageId == nil {
            sends += 1
            let runTags = RunTags.tags(runId: context.runId, plan: context.plan.name, role: role)
            try noteAttempt(Attempt(name: name, attemptAt: Ledger.format(Date())))
            do {
                let id = try await ec2.createImage(
                    instanceId: instanceId, name: name, description: description,
                    tagSpecifications: Self.tagSpecifications(runTags: runTags, extraTags: extraTags))
                imageId = id
                createdHere = true
                context.progress(step, "creating image \(id) (\(name)) from \(instanceId)")
            } catch let error as AWSError where error.code == "InvalidAMIName.Duplicate" {
                // The name is this run's: an earlier attempt (a lost answer, a killed process) made the image.
                guard let existing = try await findOwn(role: role, name: name, context: context) else {
                    throw WorkflowError.precondition("the image name \(name) is taken by an image that is not this run's (\(error.message)); "
                        + "put {runId} in masterImage.name, or deregister that image")
                }
                context.progress(step, "image \(name) exists already as \(existing) (made by an earlier attempt of this run); adopted")
                imageId = existing
            } catch let error as AWSError where error.outcomeUnknown && sends < 3 {
                context.progress(step, "CreateImage failed after it went out (\(error.code)); looking for \(name) before anything else")
                imageId = try await lookAgain(role: role, name: name, context: context, for: services.waits.imageLostAnswer)
                if let imageId {
                    context.progress(step, "the CreateImage answer was lost, but image \(imageId) exists; using it")
                } else {
                    context.progress(step, "no image \(name): CreateImage was not carried out; sending it again")
                }
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
        if !createdHere {
            // Adopted (a resume, a lost answer): an older clonectl may have made it without snapshot tags.
            let untagged = try await untaggedSnapshots(of: image, roles: [role], context: context)
            if !untagged.isEmpty {
                let text = "image \(imageId)'s snapshots \(untagged.joined(separator: ", ")) do not carry this run's tags "
                    + "(the image was made by an older clonectl, which tagged snapshots after CreateImage): they are not tagged "
                    + "now (the controller policy allows snapshot tags only from CreateImage), and cleanup will leave them "
                    + "for you to delete (aws ec2 delete-snapshot --snapshot-id ...)"
                context.progress(step, text)
                try? context.ledger.event(runId: context.runId, level: "warning", step: step.rawValue, text)
            }
        }
        return image
    }

    /// CreateImage's tag specifications: the run's tags (and `extraTags`, such as a Name) on the image, the run's tags
    /// on every snapshot it makes. The controller policy requires the run's tags on both.
    static func tagSpecifications(runTags: [EC2Tag], extraTags: [EC2Tag]) -> [EC2TagSpecification] {
        [EC2TagSpecification(resourceType: "image", tags: runTags + extraTags),
         EC2TagSpecification(resourceType: "snapshot", tags: runTags)]
    }

    /// The image's snapshots that do not carry this run's tags (OwnedResources.untaggedSnapshots).
    func untaggedSnapshots(of image: EC2Image, roles: Set<String>, context: StepContext) async throws -> [String] {
        try await OwnedResources(ec2: services.ec2).untaggedSnapshots(of: image, runId: context.runId, roles: roles)
    }

    /// `findOwn` every second or so until `window` has passed.
    func lookAgain(role: String, name: String, context: StepContext, for window: Duration) async throws -> String? {
        let deadline = ContinuousClock.now + window
        let step = min(Duration.seconds(1), services.waits.image.minDelay)
        while true {
            if let found = try await findOwn(role: role, name: name, context: context) { return found }
            guard ContinuousClock.now + step <= deadline else { return nil }
            try await Task.sleep(for: step)
        }
    }

    /// This run's usable image of `role`: by its tags, or by its name when it carries this run's tag.
    func findOwn(role: String, name: String, context: StepContext) async throws -> String? {
        let unusable: Set<ImageStateName> = [.failed, .deregistered, .invalid, .error]
        let ec2 = services.ec2
        if let byTag = try await ec2.describeImages(owners: ["self"], filters: RunTags.filters(runId: context.runId, role: role))
            .first(where: { !unusable.contains($0.stateName ?? .invalid) }) {
            return byTag.imageId
        }
        return try await ec2.describeImages(owners: ["self"], filters: [EC2Filter("name", [name])])
            .first { !unusable.contains($0.stateName ?? .invalid) && $0.tag("clonectl:run") == context.runId }?.imageId
    }

    /// Deregisters an image this run made and deletes its snapshots, once AWS reports the image with the run's tags
    /// (OwnedResources). The snapshots deleted are those AWS lists in the image and reports with this run's tags (as
    /// DeleteSnapshot's policy condition wants them); an image's snapshot without them (an older clonectl's image, see
    /// the type's comment) is left and named in a warning. `snapshotIds` from the run state are never deleted on the
    /// ledger's word alone.
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
        let untagged = try await untaggedSnapshots(of: current, roles: roles, context: context)
        try await ec2.deregisterImage(imageId)
        try context.ledger.markResourceDeleted(kind: "image", id: imageId)
        for snapshot in current.snapshotIds where !untagged.contains(snapshot) {
            try await ec2.deleteSnapshot(snapshot)
            try context.ledger.markResourceDeleted(kind: "snapshot", id: snapshot)
        }
        if !untagged.isEmpty {
            try? context.ledger.event(runId: context.runId, level: "warning", step: nil,
                                      "image \(imageId) is deregistered; its snapshots \(untagged.joined(separator: ", ")) carry no clonectl tags of this run "
                                      + "(an older clonectl's image) and are not deleted: the controller policy deletes only tagged snapshots. "
                                      + "Check them and delete them with aws ec2 delete-snapshot --snapshot-id ...")
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

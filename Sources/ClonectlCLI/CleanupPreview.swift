import AWSCore
import ClonectlPlan
import ClonectlWorkflow

/// What `clonectl cleanup RUN` would delete, as AWS reports it: each id the run state names is looked up, and only
/// one that carries the run's tags (`clonectl:run` and a `clonectl:role`) is listed for deletion. The others are
/// listed as left alone, with why.
struct CleanupPreview {
    struct Item {
        let action: String
        let skipped: String?
    }
    var items: [Item] = []
    var toDelete: Int { items.filter { $0.skipped == nil }.count }

    static func build(all: Bool, plan: Plan, state: RunState, runId: String, ec2: EC2Client) async throws -> CleanupPreview {
        var preview = CleanupPreview()
        func instances(_ named: [(String, String)], role: String) async throws {
            guard !named.isEmpty else { return }
            let owned = OwnedResources(ec2: ec2)
            let (live, refused) = try await owned.instances(named.map(\.1), runId: runId, roles: [role])
            for (label, id) in named {
                if live.contains(id) {
                    preview.items.append(Item(action: "terminate instance \(id) (\(label))", skipped: nil))
                } else if refused.contains(id) {
                    preview.items.append(Item(action: "instance \(id) (\(label))",
                                              skipped: "AWS does not report it tagged clonectl:run=\(runId), clonectl:role=\(role): left untouched"))
                } else {
                    preview.items.append(Item(action: "instance \(id) (\(label))", skipped: "already terminated"))
                }
            }
        }
        func image(_ id: String?, role: String) async throws {
            guard let id else { return }
            do {
                if let image = try await OwnedResources(ec2: ec2).image(id, runId: runId, roles: [role]) {
                    // As cleanup does (ImageMaker.remove): only snapshots carrying this run's tags are deleted; an older
                    // clonectl's untagged ones are left, which the controller policy could not delete anyway.
                    let left = try await OwnedResources(ec2: ec2).untaggedSnapshots(of: image, runId: runId, roles: ["source", "master"])
                    let owned = image.snapshotIds.filter { !left.contains($0) }
                    let snaps = owned.isEmpty ? "" : " and delete snapshot(s) \(owned.joined(separator: ", "))"
                    preview.items.append(Item(action: "deregister image \(id) (\(role) image)\(snaps)", skipped: nil))
                    if !left.isEmpty {
                        preview.items.append(Item(action: "snapshot(s) \(left.joined(separator: ", ")) of image \(id)",
                                                  skipped: "not tagged clonectl:run=\(runId) (an older clonectl's image): left untouched"))
                    }
                } else {
                    preview.items.append(Item(action: "image \(id) (\(role) image)", skipped: "already deregistered"))
                }
            } catch let refusal as OwnedResourcesRefusal {
                preview.items.append(Item(action: "image \(id) (\(role) image)", skipped: "\(refusal)"))
            }
        }
        if all {
            try await instances(plan.clones.compactMap { c in state.clones[c.name].map { ("clone \(c.name)", $0) } }
                                + state.clones.filter { k, _ in !plan.clones.contains { $0.name == k } }.map { ("clone \($0.key)", $0.value) },
                                role: "clone")
            try await image(state.masterImageId, role: "master")
        }
        if let work = state.workCopyInstanceId { try await instances([("work copy", work)], role: "work-copy") }
        if all || plan.cleanup.deregisterSourceImage { try await image(state.sourceImageId, role: "source") }
        if all, state.sourceStoppedByUs {
            preview.items.append(Item(action: "start the source \(state.sourceInstanceId) again (this run stopped it)", skipped: nil))
        }
        return preview
    }

    var text: String {
        items.map { $0.skipped == nil ? "  - \($0.action)" : "  - skip \($0.action): \($0.skipped!)" }.joined(separator: "\n")
    }
}

import AWSCore
import ClonectlPlan

/// Cleanup deletes only what AWS itself reports as this run's: an instance or image carrying `clonectl:run` = the run
/// and a `clonectl:role` of what is being removed. An id that only the ledger (or the run state in it) names is never
/// enough, so a ledger edited to name the source, or another run's clone, cannot make cleanup terminate it. The source
/// carries `clonectl:run` too (the run's claim, SourceClaim) but never a role, so it never qualifies.
public struct OwnedResources: Sendable {
    let ec2: EC2Client
    public init(ec2: EC2Client) { self.ec2 = ec2 }

    /// The image's snapshots that do not carry `clonectl:run` = `runId` and a `clonectl:role` in `roles`, as AWS
    /// reports their tags now (DescribeTags): cleanup leaves them (an older clonectl's image), and its preview says so.
    public func untaggedSnapshots(of image: EC2Image, runId: String, roles: Set<String>) async throws -> [String] {
        guard !image.snapshotIds.isEmpty else { return [] }
        let tags = try await ec2.describeTags(resourceIds: image.snapshotIds)
        return image.snapshotIds.filter { id in
            let own = tags[id] ?? []
            return !own.contains(EC2Tag("clonectl:run", runId))
                || !roles.contains(own.first { $0.key == "clonectl:role" }?.value ?? "")
        }
    }

    /// An id the ledger named that AWS does not report as the run's.
    struct NotOwned: OwnedResourcesRefusal {
        let kind: String
        let ids: [String]
        let runId: String
        let roles: [String]
        var description: String {
            "refusing to delete \(kind) \(ids.joined(separator: ", ")): AWS reports no such \(kind) tagged clonectl:run=\(runId) "
                + "with clonectl:role \(roles.joined(separator: " or ")) (the ledger alone names it: left untouched)"
        }
    }

    /// The instances among `ids` that AWS reports with the run's tags and one of `roles`, still not terminated; and
    /// the ids it does not report so (terminated ones count as owned-and-gone, not as refused).
    public func instances(_ ids: [String], runId: String, roles: Set<String>) async throws -> (live: [String], refused: [String]) {
        guard !ids.isEmpty else { return ([], []) }
        let tagged = try await ec2.describeAllInstances(filters: [EC2Filter("tag:clonectl:run", [runId])])
        let owned = Dictionary(tagged.filter { roles.contains($0.tag("clonectl:role") ?? "") }.map { ($0.instanceId, $0) },
                               uniquingKeysWith: { a, _ in a })
        let live = ids.filter { owned[$0].map { $0.stateName != .terminated } ?? false }
        return (live, ids.filter { owned[$0] == nil })
    }

    /// Terminates the run's instances among `ids` (as AWS reports them), marks them deleted in the ledger, and throws
    /// NotOwned, after doing the rest, when some id is not the run's.
    func terminate(_ ids: [String], roles: Set<String>, context: StepContext) async throws {
        let (live, refused) = try await instances(ids, runId: context.runId, roles: roles)
        if !live.isEmpty { _ = try await ec2.terminateInstances(live) }
        for id in ids where !refused.contains(id) { try context.ledger.markResourceDeleted(kind: "instance", id: id) }
        if !refused.isEmpty {
            throw NotOwned(kind: "instance", ids: refused, runId: context.runId, roles: roles.sorted())
        }
    }

    /// The image, if AWS still has it, after checking it carries the run's tags and a role in `roles`.
    public func image(_ id: String, runId: String, roles: Set<String>) async throws -> EC2Image? {
        let found: EC2Image?
        do {
            found = try await ec2.describeImages(imageIds: [id]).first
        } catch let error as AWSError where error.code.hasPrefix("InvalidAMIID.") {
            found = nil
        }
        guard let image = found, image.stateName != .deregistered else { return nil }
        guard image.tag("clonectl:run") == runId, roles.contains(image.tag("clonectl:role") ?? "") else {
            throw NotOwned(kind: "image", ids: [id], runId: runId, roles: roles.sorted())
        }
        return image
    }
}

/// A refusal to delete something AWS does not report as the run's (its text says which and why).
public protocol OwnedResourcesRefusal: Error, CustomStringConvertible {}

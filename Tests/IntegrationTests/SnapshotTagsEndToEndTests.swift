import Testing
import Foundation
@testable import AWSCore
import ClonectlLedger
import TestSupport

/// Snapshots get the run's tags from CreateImage only (controller/iam/controller-policy.json: NewSnapshotsCarryTheRunTags,
/// TagTheNewImagesSnapshots with ec2:CreateAction). A run's snapshots carry the tags from the start; an image made by
/// an older clonectl, which tagged snapshots with a CreateTags after CreateImage and may have been stopped between the
/// two, is adopted as it is: not tagged now, warned about, and cleanup leaves its untagged snapshots.
@Suite(.serialized) struct SnapshotTagsEndToEndTests {
    typealias W = EndToEndTests

    /// The image stays pending long enough for the controller to be killed while it waits for it.
    static let slowImage = W.fast.replacingOccurrences(of: #""imagePendingSeconds": 0.3"#, with: #""imagePendingSeconds": 4"#)

    @Test func anOlderClonectlsUntaggedSnapshotsAreAdoptedNotTaggedAndLeftByCleanup() async throws {
        #expect(Self.slowImage != W.fast)
        let w = try W.world(on: try LocalAWS.startPrivate(config: Self.slowImage))
        let process = try w.start(["run", w.plan.path])
        // Killed once the source image's id is recorded, while the run waits for it to be available.
        var sourceImage: String?
        let deadline = Date().addingTimeInterval(120)
        while sourceImage == nil, Date() < deadline, process.isRunning {
            if let l = try? Ledger(path: w.ledger), let run = try? l.runs().first {
                sourceImage = (try? l.resources(runId: run.id))?.first { $0.kind == "image" && $0.step == "image-source" }?.id
            }
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let imageId = try #require(sourceImage, "the run recorded its source image")
        let snapshots = try #require(try await w.aws.ec2.describeImages(imageIds: [imageId]).first?.snapshotIds)
        #expect(!snapshots.isEmpty)
        // CreateImage tagged them (no CreateTags was sent for them).
        let tagged = try await w.aws.ec2.describeTags(resourceIds: snapshots)
        #expect(snapshots.allSatisfy { tagged[$0]?.contains { $0.key == "clonectl:role" && $0.value == "source" } == true }, "\(tagged)")

        // What an older clonectl stopped between CreateImage and its CreateTags left: snapshots without tags.
        var untag = QueryParameters(action: "DeleteTags", version: EC2Client.apiVersion)
        untag.addList("ResourceId", snapshots)
        untag.addStructList("Tag", ["clonectl:run", "clonectl:plan", "clonectl:role"]) { s, key in s.add("Key", key) }
        _ = try await QueryProtocol.call(client: w.aws.ec2.client, parameters: untag)
        #expect(try await w.aws.ec2.describeTags(resourceIds: snapshots).isEmpty)

        let resumed = try w.run(["run", w.plan.path])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stderr.contains("do not carry this run's tags"), "\(resumed.stderr)")
        #expect(try await w.aws.ec2.describeTags(resourceIds: snapshots).isEmpty, "not tagged after the fact")

        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id)
        // The preview says what cleanup will do: the old image's untagged snapshots are listed as left untouched.
        let preview = try w.run(["cleanup", runId, "--all", "--dry-run"])
        let left = preview.stdout.split(separator: "\n").filter { $0.contains(snapshots[0]) }
        #expect(!left.isEmpty && left.allSatisfy { $0.contains("left untouched") && !$0.contains("delete snapshot") },
                "\(preview.stdout)")
        let cleanup = try w.run(["cleanup", runId, "--all", "--yes"])
        #expect(cleanup.status == 0, "stdout: \(cleanup.stdout)\nstderr: \(cleanup.stderr)")
        #expect(try await w.aws.ec2.imageGone(imageId), "the old image is deregistered")
        for snapshot in snapshots {
            #expect(try await !w.aws.ec2.snapshotGone(snapshot), "\(snapshot) is left for an operator")
        }
        let warnings = try ledger.events(runId: runId).filter { $0.level == "warning" }.map(\.message)
        #expect(warnings.contains { $0.contains(snapshots[0]) && $0.contains("not deleted") }, "\(warnings)")
        // The master image's snapshots were made by this clonectl: tagged by CreateImage, deleted by cleanup.
        let gone = try ledger.resources(runId: runId, includeDeleted: true).filter { $0.kind == "snapshot" && $0.deletedAt != nil }
        #expect(!gone.isEmpty && gone.allSatisfy { !snapshots.contains($0.id) }, "\(gone)")
        // Nothing of this (the resume's DescribeTags, the cleanup that skips the untagged snapshots) needs more than
        // the run policy: a DeleteSnapshot of them would have been denied. The test's own DeleteTags (the older
        // clonectl's state) is not the run's, and the run policy would not allow it.
        let log = try await W.control(w, "/calls")
        let all = log["calls"] as? [[String: Any]] ?? []
        let untagCalls = all.filter { $0["api"] as? String == "ec2:DeleteTags" }
        #expect(untagCalls.count == 1)
        let untagVerdict = try IAMReplay.judge(calls: ["calls": untagCalls], policy: "controller-policy.json")
        #expect(untagVerdict.denied.count == 1, "the run policy cannot untag a snapshot")
        try IAMReplay.expectRunPolicyAllows(["calls": all.filter { $0["api"] as? String != "ec2:DeleteTags" }])
    }
}

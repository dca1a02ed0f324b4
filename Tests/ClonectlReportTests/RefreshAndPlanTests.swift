import Testing
import Foundation
import ClonectlLedger
import ClonectlReport

/// `report --refresh` (LiveState: batching, gone, partial and total failure) and `report --plan` (PlanReport: the
/// rounds, the lineage across rounds, anchors), on ledgers written here.
@Suite struct RefreshAndPlanTests {
    struct Denied: Error, CustomStringConvertible { var description: String { "UnauthorizedOperation: not allowed" } }

    /// Records the batches asked for; answers every id but `gone`, images fail when `imagesFail`.
    final class FakeEC2: @unchecked Sendable {
        var batches: [[String]] = []
        let lock = NSLock()
        func record(_ b: [String]) { lock.lock(); batches.append(b); lock.unlock() }
    }

    static func read(_ report: RunReport, gone: Set<String>, instancesFail: Bool = false, imagesFail: Bool = false,
                     ec2: FakeEC2 = FakeEC2()) async -> LiveState {
        let ids = LiveState.ids(in: [report])
        return await LiveState.read(
            instanceIds: ids.instances, imageIds: ids.images, now: Date(timeIntervalSince1970: 1_800_000_000),
            instances: { batch in
                ec2.record(batch)
                if instancesFail { throw Denied() }
                return batch.filter { !gone.contains($0) }.map { ($0, $0 == "i-work" ? "terminated" : "running") }
            },
            images: { batch in
                ec2.record(batch)
                if imagesFail { throw Denied() }
                return batch.filter { !gone.contains($0) }.map { ($0, "available") }
            })
    }

    @Test func fiveHundredClonesAreReadInBatchesOfTwoHundredAndAnIdAWSForgotIsGone() async throws {
        let (ledger, runId) = try ReportModelTests.ledger(clones: 500)
        defer { ledger.close() }
        let report = try ReportBuilder.build(ledger: ledger, runId: runId)
        let recordedAt = try ledger.run(id: runId).updatedAt
        #expect(report.stateAsOf.source == "ledger" && report.stateAsOf.at == recordedAt)
        let ec2 = FakeEC2()
        let live = await Self.read(report, gone: ["i-clone007", "ami-source"], ec2: ec2)
        // 502 instances: 200 + 200 + 102; 2 images: 1 call. Every id asked exactly once.
        #expect(ec2.batches.map(\.count) == [200, 200, 102, 2])
        #expect(Set(ec2.batches.joined()).count == 504)
        #expect(live.errors.isEmpty && !live.readNothing && live.at == "2027-01-15T08:00:00.000Z")
        let r = report.refreshed(with: live)
        #expect(r.stateAsOf == RunReport.StateAsOf(source: "aws", at: live.at))
        let nodes = Dictionary(r.lineage.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(nodes["i-clone007"]?.stateNow == "gone" && nodes["i-clone007"]?.state == "running")
        #expect(nodes["i-work"]?.stateNow == "terminated" && nodes["ami-source"]?.stateNow == "gone")
        #expect(nodes["ami-master"]?.stateNow == "available")
        #expect(r.instances.first { $0.instanceId == "i-clone007" }?.stateNow == "gone")
        #expect(r.instances.first { $0.instanceId == "i-clone007" }?.state == "running")
        // Shown: the lineage table has a "state now" column, the page says when.
        let md = MarkdownReport.render(r)
        #expect(md.contains("| states | from AWS at 2027-01-15T08:00:00.000Z |"), "\(md.prefix(900))")
        #expect(md.contains("state (recorded) | state now |") && md.contains("| running | gone |"))
        #expect(md.contains("`i-clone007` (running; now gone)"))
        let html = HTMLReport.render(r)
        #expect(html.contains("<th>state now</th>") && html.contains("States from AWS at 2027-01-15T08:00:00.000Z."))
        // Without --refresh: as recorded, no "now" column.
        let plain = MarkdownReport.render(report)
        #expect(plain.contains("as recorded at \(report.stateAsOf.at)") && !plain.contains("state now"))
    }

    @Test func anAWSErrorIsInTheReportAndOnlyATotalFailureReadsNothing() async throws {
        let (ledger, runId) = try ReportModelTests.ledger(clones: 3)
        defer { ledger.close() }
        let report = try ReportBuilder.build(ledger: ledger, runId: runId)
        let partial = await Self.read(report, gone: [], imagesFail: true)
        #expect(!partial.readNothing && partial.asked == 2 && partial.answered == 1)
        #expect(partial.errors == ["could not read the state of 2 images (ami-master …): UnauthorizedOperation: not allowed"])
        let r = report.refreshed(with: partial)
        #expect(r.lineage.nodes.first { $0.id == "ami-master" }?.stateNow == nil, "unread is not shown as gone")
        #expect(r.lineage.nodes.first { $0.id == "i-clone001" }?.stateNow == "running")
        let md = MarkdownReport.render(r)
        #expect(md.contains("> **State not read from AWS:** could not read the state of 2 images"))
        #expect(md.contains("| available | not read |"))
        #expect(HTMLReport.render(r).contains("State not read from AWS:"))
        let none = await Self.read(report, gone: [], instancesFail: true, imagesFail: true)
        #expect(none.readNothing && none.errors.count == 2)
    }

    @Test func thePlanDocumentHasEveryRoundTheLineageAcrossRoundsAndAnchors() throws {
        let (ledger, first) = try ReportModelTests.ledger(clones: 2)
        defer { ledger.close() }
        try ledger.setRunStatus(first, "cleaned")
        let (other, second) = try ReportModelTests.ledger(clones: 3, failing: [1])
        defer { other.close() }
        let runs = [try ReportBuilder.build(ledger: ledger, runId: first), try ReportBuilder.build(ledger: other, runId: second)]
        let p = PlanReport(plan: "big", runs: runs)
        #expect(p.kind == "plan" && p.rounds.map(\.number) == [1, 2])
        #expect(p.rounds.map(\.runId) == [first, second])
        #expect(p.rounds.map(\.result) == ["cleaned", "failed"] && p.rounds.map(\.cleaned) == [true, false])
        #expect(p.rounds.map(\.clones) == [2, 3] && p.rounds[1].failures == runs[1].failures.count && p.rounds[1].failures > 0)
        #expect(p.rounds[0].images == ["ami-source", "ami-master"] && p.rounds[0].masterImageId == "ami-master")
        #expect(p.rounds[0].callerArn == "arn:aws:iam::123456789012:user/<ops>")
        #expect(p.rounds.allSatisfy { $0.anchor.hasPrefix("run-") && !$0.anchor.contains("run-run-") })
        // One source (both rounds from i-source), then per round: round -> master -> clones.
        #expect(p.lineage.nodes.map(\.kind) == ["source-instance", "round", "master-image", "clones", "round", "master-image", "clones"])
        #expect(p.lineage.edges.map(\.label) == ["round 1", "imaged", "launched", "round 1".replacingOccurrences(of: "1", with: "2"), "imaged", "launched"])
        #expect(p.lineage.nodes[1].state == "cleaned" && p.lineage.nodes[3].name == "2 clones")

        let md = try PlanReportRenderer.render(p, as: .md)
        #expect(md.hasPrefix("# clonectl plan big: 2 rounds"))
        for r in p.rounds {
            #expect(md.contains("[\(r.runId)](#\(r.anchor))") && md.contains("<a id=\"\(r.anchor)\"></a>"))
        }
        #expect(md.contains("## Lineage across rounds\n\n```mermaid\nflowchart LR"))
        #expect(md.contains("## clonectl run \(second): failed") && md.contains("### Failures"), "each round's detail, a level down")
        let html = try PlanReportRenderer.render(p, as: .html)
        for r in p.rounds {
            #expect(html.contains("<a href=\"#\(r.anchor)\">") && html.contains("<article class=\"round\" id=\"\(r.anchor)\">"))
            #expect(html.contains("id=\"\(r.anchor)-timeline\"") && html.contains("id=\"\(r.anchor)-lineage\""))
        }
        #expect(html.contains("<svg class=\"lineage-graph plan-lineage\"") && !html.contains("<script"))
        // Element ids are unique on the page (two rounds' sections do not collide).
        let ids = html.components(separatedBy: " id=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(Set(ids).count == ids.count, "duplicate ids: \(ids)")
        let json = try PlanReportRenderer.render(p, as: .json)
        let decoded = try JSONDecoder().decode(PlanReport.self, from: Data(json.utf8))
        #expect(decoded == p)
        #expect(try PlanReportRenderer.render(p, as: .mermaid).components(separatedBy: "-->").count - 1 == p.lineage.edges.count)
    }
}

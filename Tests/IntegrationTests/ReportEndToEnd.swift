import Foundation
import Testing
import ClonectlLedger
import TestSupport

/// The run report of the whole workflow's run (EndToEndTests.theWholeWorkflowThenOneStepAgain, right after the run,
/// so no extra local AWS run is needed): golden Markdown and JSON, the HTML kept under .build/ for the browser check.
extension EndToEndTests {
    static func checkReport(_ w: World) throws {
        let md = try w.run(["report", "--format", "md"])
        #expect(md.status == 0, "stderr: \(md.stderr)")
        let json = try w.run(["report", "--format", "json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        // What must be there, whatever the golden says.
        let header = try #require(object["header"] as? [String: Any])
        #expect(header["result"] as? String == "succeeded")
        #expect((header["callerArn"] as? String)?.hasPrefix("arn:aws:iam::") == true, "\(header)")
        #expect(header["region"] as? String == w.local.region)
        let timeline = try #require(object["timeline"] as? [[String: Any]])
        #expect(timeline.map { $0["name"] as? String ?? "" } == ["preflight", "prep", "stop-source", "image-source", "restore-source",
                                                                 "launch-work-copy", "work-copy-prep", "sysprep", "master-image",
                                                                 "launch-clones", "post-clone", "verify", "cleanup"])
        let waits = timeline.flatMap { ($0["waits"] as? [[String: Any]]) ?? [] }.map { $0["kind"] as? String ?? "" }
        for kind in ["stopping", "image-pending", "sysprep-shutdown", "booting", "agent-online"] { #expect(waits.contains(kind), "\(waits)") }
        let lineage = try #require(object["lineage"] as? [String: Any])
        let kinds = ((lineage["nodes"] as? [[String: Any]]) ?? []).map { $0["kind"] as? String ?? "" }
        #expect(kinds == ["source-instance", "source-image", "work-copy", "master-image", "clone", "clone"])
        let downtime = try #require(object["sourceDowntime"] as? [String: Any])
        #expect((downtime["seconds"] as? Double ?? 0) > 0)
        try ReportGolden.check(md.stdout, against: "report-golden.md")
        try ReportGolden.check(json.stdout, against: "report-golden.json")

        // The HTML, kept for the browser check and as a CI artifact.
        let folder = TestEnvironment.repoRoot.appendingPathComponent(".build/report-artifacts")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let html = try w.run(["report", "--out", folder.appendingPathComponent("e2e-report.html").path])
        #expect(html.status == 0, "stderr: \(html.stderr)")
    }
}

/// The report of a real failed run: GuestFaultEndToEndTests' run right after its first guest fault (sysprep refused
/// while EC2Launch v2 is still running), so the failure comes from the local AWS and the ledger, not a hand-written
/// one. Golden Markdown and JSON as for the successful run.
extension GuestFaultEndToEndTests {
    static func checkFailedReport(_ w: EndToEndTests.World) throws {
        let md = try w.run(["report", "--format", "md"])
        #expect(md.status == 0, "stderr: \(md.stderr)")
        let json = try w.run(["report", "--format", "json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let header = try #require(object["header"] as? [String: Any])
        #expect(header["result"] as? String == "failed", "\(header)")
        let failures = try #require(object["failures"] as? [[String: Any]])
        #expect(failures.first?["step"] as? String == "sysprep", "\(failures)")
        #expect(failures.contains { ($0["error"] as? String ?? "").contains("EC2Launch v2 is still running") }, "\(failures)")
        #expect(failures.contains { !(($0["logTail"] as? [String]) ?? []).isEmpty }, "a failed guest step carries its log tail")
        // Failures first: the section comes before the timeline in the Markdown.
        let failuresAt = try #require(md.stdout.range(of: "## Failures"))
        let timelineAt = try #require(md.stdout.range(of: "## Timeline"))
        #expect(failuresAt.lowerBound < timelineAt.lowerBound)
        try ReportGolden.check(md.stdout, against: "report-failed-golden.md")
        try ReportGolden.check(json.stdout, against: "report-failed-golden.json")
    }
}

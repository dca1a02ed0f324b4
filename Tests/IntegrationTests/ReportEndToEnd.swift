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

        // --refresh: the state now from the local AWS (moto's EC2), by id; without it, "as recorded".
        #expect((object["stateAsOf"] as? [String: Any])?["source"] as? String == "ledger")
        #expect(md.stdout.contains("| states | as recorded at "), "\(md.stdout.prefix(1200))")
        let fresh = try w.run(["report", "--refresh", "--format", "json"])
        #expect(fresh.status == 0, "stderr: \(fresh.stderr)")
        let now = try #require(try JSONSerialization.jsonObject(with: Data(fresh.stdout.utf8)) as? [String: Any])
        let asOf = try #require(now["stateAsOf"] as? [String: Any])
        #expect(asOf["source"] as? String == "aws" && (asOf["errors"] as? [Any])?.isEmpty == true, "\(asOf)")
        let nodes = ((now["lineage"] as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []
        let stateNow = Dictionary(nodes.map { ($0["kind"] as? String ?? "", $0["stateNow"] as? String ?? "unread") }, uniquingKeysWith: { a, _ in a })
        #expect(stateNow["source-instance"] == "running" && stateNow["clone"] == "running" && stateNow["master-image"] == "available", "\(stateNow)")
        // The cleanup step terminated the work copy: EC2 still lists it as terminated (or no longer knows it).
        #expect(["terminated", "shutting-down", "gone"].contains(stateNow["work-copy"] ?? ""), "\(stateNow)")
        // AWS unreachable: the report is still written, says why, and the command fails (nothing could be read).
        let down = try w.run(["report", "--refresh", "--format", "md", "--endpoint-url", "http://127.0.0.1:9"])
        #expect(down.status == 1, "stderr: \(down.stderr)")
        #expect(down.stdout.contains("State not read from AWS:") && down.stderr.contains("--refresh could not read any state"),
                "stdout: \(down.stdout.prefix(600))\nstderr: \(down.stderr)")

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

import Testing
import Foundation
import ClonectlLedger
import ClonectlReport
import ClonectlWorkflow

/// The report from ledgers written here (fast, no AWS): roles, failures first, waits, reboots from earlier envelopes,
/// downtime, escaping, and a 500-clone run that must stay small and grouped.
@Suite struct ReportModelTests {
    /// A ledger with one run: source, work copy, `clones` clones; guest steps in commands of 50; `failing` clones fail.
    static func ledger(clones: Int, failing: Set<Int> = [], rebootOutput: Bool = false) throws -> (Ledger, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).sqlite").path
        let clock = FakeClock()
        let l = try Ledger(path: path, clock: { clock.tick() })
        let run = try l.createRun(planName: "big", planPath: "/plans/big.yaml", planSha256: String(repeating: "a", count: 64))
        try l.recordRunIdentity(run.id, callerArn: "arn:aws:iam::123456789012:user/<ops>", region: "eu-west-1")
        var state = RunState(sourceInstanceId: "i-source")
        state.sourceImageId = "ami-source"
        state.workCopyInstanceId = "i-work"
        state.masterImageId = "ami-master"
        for n in 0..<clones { state.clones[String(format: "web%03d", n)] = String(format: "i-clone%03d", n) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try l.saveRunState(run.id, json: String(decoding: try encoder.encode(state), as: UTF8.self))
        for step in StepName.allCases {
            try l.stepStarted(runId: run.id, step: step.rawValue)
            switch step {
            case .stopSource:
                let w = try l.waitStarted(runId: run.id, step: step.rawValue, kind: "stopping", target: "i-source")
                try l.waitFinished(w, outcome: "done")
            case .restoreSource:
                let w = try l.waitStarted(runId: run.id, step: step.rawValue, kind: "booting", target: "i-source")
                try l.waitFinished(w, outcome: "done")
            case .postClone:
                let ids = state.clones.values.sorted()
                for (c, chunk) in stride(from: 0, to: ids.count, by: 50).map({ Array(ids[$0..<min($0 + 50, ids.count)]) }).enumerated() {
                    let cid = "cmd-hostname-\(c)"
                    try l.recordCommand(CommandRecord(commandId: cid, runId: run.id, step: step.rawValue, payload: "hostname",
                                                      version: "1.0.0", payloadSha256: String(repeating: "b", count: 64), nonce: "n",
                                                      instanceIds: chunk, parametersJSON: #"{"common":{},"byInstance":{}}"#,
                                                      sentAt: Ledger.format(clock.tick())))
                    try l.recordInvocations(chunk.map { id in
                        let n = Int(id.suffix(3))!
                        let failed = failing.contains(n)
                        let status = failed ? "failed" : rebootOutput ? "ok" : "changed"
                        let change = failed || rebootOutput ? "[]" : #"[{"item":"hostName","from":"EC2AMAZ-1","to":"WEB\#(n)"}]"#
                        let final = #"{"status":"\#(status)","changed":\#(change),"errors":\#(failed ? #"["<rename> & failed"]"# : "[]"),"logTail":["line 1","rename refused"],"startedAt":"2026-11-28T04:00:4\#(n % 10)Z","finishedAt":"2026-11-28T04:00:50Z"}"#
                        let earlier = #"{"status":"reboot-pending","changed":[{"item":"hostName","from":"EC2AMAZ-1","to":"WEB\#(n)"}],"startedAt":"2026-11-28T04:00:00Z","finishedAt":"2026-11-28T04:00:02Z"}"#
                        let output = rebootOutput
                            ? "-----BEGIN CLONECTL RESULT v1-----\n\(earlier)\n-----END CLONECTL RESULT sha256=x-----\n-----BEGIN CLONECTL RESULT v1-----\n\(final)\n-----END CLONECTL RESULT sha256=y-----\n"
                            : nil
                        return InvocationRecord(commandId: cid, instanceId: id, status: failed ? "Failed" : "Success",
                                                responseCode: failed ? 1 : 0, output: output, verdict: "verified",
                                                resultJSON: final, startedAt: Ledger.format(clock.tick()),
                                                finishedAt: Ledger.format(clock.tick()), updatedAt: Ledger.format(clock.tick()))
                    })
                }
            default: break
            }
            try l.stepFinished(runId: run.id, step: step.rawValue, status: step == .postClone && !failing.isEmpty ? "failed" : "succeeded",
                               error: step == .postClone && !failing.isEmpty ? "\(failing.count) clones failed hostname" : nil)
            if step == .postClone && !failing.isEmpty { break }
        }
        try l.setRunStatus(run.id, failing.isEmpty ? "succeeded" : "failed")
        return (l, run.id)
    }

    @Test func rolesLineageDowntimeAndCounts() throws {
        let (l, id) = try Self.ledger(clones: 3)
        defer { l.close() }
        let r = try ReportBuilder.build(ledger: l, runId: id)
        #expect(r.header.callerArn == "arn:aws:iam::123456789012:user/<ops>")
        #expect(r.header.region == "eu-west-1")
        #expect(r.timeline.count == StepName.allCases.count)
        #expect(r.lineage.nodes.map(\.kind) == ["source-instance", "source-image", "work-copy", "master-image", "clone", "clone", "clone"])
        #expect(r.lineage.edges.count == 6)
        #expect(r.totals.changed == 3 && r.totals.failed == 0 && r.failures.isEmpty)
        #expect(r.instances.map(\.name) == ["web000", "web001", "web002"])
        let change = try #require(r.instances[0].steps[0].changes.first)
        #expect(change.item == "hostName" && change.from == "EC2AMAZ-1" && change.to == "WEB0")
        let d = try #require(r.sourceDowntime)
        #expect(d.instanceId == "i-source" && (d.seconds ?? 0) > 0 && d.runningAt != nil)
    }

    @Test func failuresComeFirstWithTheirLogTail() throws {
        let (l, id) = try Self.ledger(clones: 4, failing: [2])
        defer { l.close() }
        let r = try ReportBuilder.build(ledger: l, runId: id)
        #expect(r.header.result == "failed")
        #expect(r.failures.first?.step == "post-clone" && r.failures.first?.instanceId == nil)
        #expect(r.failures.contains { $0.instanceId == "i-clone002" && $0.logTail == ["line 1", "rename refused"] })
        #expect(r.instances.first?.instanceId == "i-clone002" && r.instances.first?.failed == true)
        let md = MarkdownReport.render(r)
        #expect(md.range(of: "## Failures")!.lowerBound < md.range(of: "## Timeline")!.lowerBound)
        let html = HTMLReport.render(r)
        #expect(html.contains("&lt;rename&gt; &amp; failed") && !html.contains("<rename>"))
        #expect(html.contains("user/&lt;ops&gt;"))
    }

    @Test func rebootsAndTheirChangesComeFromEarlierEnvelopes() throws {
        let (l, id) = try Self.ledger(clones: 2, rebootOutput: true)
        defer { l.close() }
        let r = try ReportBuilder.build(ledger: l, runId: id)
        #expect(r.totals.reboots == 2)
        // Each reboot is a wait of its step, from the run that asked for it to the run after it (the guest's times).
        let waits = try #require(r.timeline.first { $0.name == "post-clone" }).waits.filter { $0.kind == "reboot" }
        #expect(waits.map(\.target) == ["i-clone000", "i-clone001"], "\(waits)")
        #expect(waits.map(\.startedAt) == ["2026-11-28T04:00:02.000Z", "2026-11-28T04:00:02.000Z"])
        #expect(waits.map(\.finishedAt) == ["2026-11-28T04:00:40.000Z", "2026-11-28T04:00:41.000Z"])
        #expect(waits.map(\.seconds) == [38, 39] && r.totals.waitSeconds >= 77)
        // Drawn as waits: a "wait: reboot" row in the SVG timeline and a task in the Mermaid gantt.
        #expect(HTMLReport.render(r).contains("wait: reboot") && MarkdownReport.render(r).contains("wait reboot :active"))
        #expect(r.instances.allSatisfy { $0.steps[0].result == "changed" && $0.steps[0].changes.first?.item == "hostName" })
    }

    /// 500 clones: the timeline has one row per payload and group (not per instance), the lineage graph draws a few
    /// clones and counts the rest, the recap counts first and folds the table; the file stays small. Prints the size.
    @Test func fiveHundredClonesStayReadableAndSmall() throws {
        let (l, id) = try Self.ledger(clones: 500, failing: [7, 321], rebootOutput: true)
        defer { l.close() }
        let r = try ReportBuilder.build(ledger: l, runId: id)
        let html = HTMLReport.render(r)
        // 500 reboots (each a wait, all in the JSON) are one row in the SVG, one gantt task and one count in Markdown.
        #expect(r.timeline.flatMap(\.waits).filter { $0.kind == "reboot" }.count == 500)
        #expect(html.components(separatedBy: "wait: reboot").count - 1 == 1)
        let md = MarkdownReport.render(r)
        #expect(md.components(separatedBy: "wait reboot").count - 1 == 1 && md.contains("wait reboot ×500 :active, "))
        #expect(md.contains("| reboot ×500 (longest "), "\(md.prefix(3000))")
        print("report figures: 500 clones, HTML \(html.utf8.count) bytes, \(r.instances.count) instances")
        #expect(html.utf8.count < 3_000_000)
        #expect(html.components(separatedBy: "<g class=\"sub-row\">").count - 1 < 20)
        #expect(html.contains("hostname · clones ×500 (10 cmds)"))
        #expect(html.contains("+ \(500 - HTMLReport.lineageCloneLimit) more clones"))
        #expect(html.contains("<details><summary>All 498 other instances"))
        let failedSection = try #require(html.range(of: "Failed instances (2)"))
        #expect(failedSection.lowerBound < html.range(of: "<details>")!.lowerBound)
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"))
        // Kept for the browser check (tests/test_report.py renders it in Chromium) and as a CI artifact.
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/report-artifacts")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(html.utf8).write(to: folder.appendingPathComponent("synthetic-500-report.html"))
    }

    @Test func jsonIsStableAndDotAndMermaidNameEveryNode() throws {
        let (l, id) = try Self.ledger(clones: 2)
        defer { l.close() }
        let r = try ReportBuilder.build(ledger: l, runId: id)
        let a = try ReportRenderer.json(r), b = try ReportRenderer.json(try ReportBuilder.build(ledger: l, runId: id))
        #expect(a == b)
        let back = try JSONDecoder().decode(RunReport.self, from: Data(a.utf8))
        #expect(back == r)
        let dot = ReportRenderer.dot(r.lineage), mermaid = ReportRenderer.mermaidFlowchart(r.lineage)
        for n in r.lineage.nodes { #expect(dot.contains("\"\(n.id)\"") && mermaid.contains(n.id)) }
        #expect(dot.hasPrefix("digraph lineage {") && mermaid.hasPrefix("flowchart LR"))
    }
}

/// A clock that moves 1.5 s per reading, so every span has a length.
final class FakeClock: @unchecked Sendable {
    private var now = Date(timeIntervalSince1970: 1_800_000_000)
    private let lock = NSLock()
    func tick() -> Date {
        lock.lock(); defer { lock.unlock() }
        now = now.addingTimeInterval(1.5)
        return now
    }
}

/// Migration 3's records: the identity is kept from the first start, waits keep their outcome.
@Suite struct ReportLedgerTests {
    @Test func identityAndWaitsRoundTrip() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).sqlite").path
        let l = try Ledger(path: path)
        defer { l.close() }
        let run = try l.createRun(planName: "p", planPath: "/p.yaml", planSha256: "x")
        #expect(try l.runIdentity(run.id) == RunIdentity(callerArn: nil, region: nil))
        try l.recordRunIdentity(run.id, callerArn: "arn:aws:iam::1:user/a", region: "eu-west-1")
        // A resumed run by someone else does not rewrite who started it.
        try l.recordRunIdentity(run.id, callerArn: "arn:aws:iam::1:user/b", region: "us-east-1")
        #expect(try l.runIdentity(run.id) == RunIdentity(callerArn: "arn:aws:iam::1:user/a", region: "eu-west-1"))
        let a = try l.waitStarted(runId: run.id, step: "sysprep", kind: "sysprep-shutdown", target: "i-1")
        let b = try l.waitStarted(runId: run.id, step: "master-image", kind: "image-pending", target: "ami-1")
        try l.waitFinished(a, outcome: "timeout")
        let waits = try l.waits(runId: run.id)
        #expect(waits.map(\.kind) == ["sysprep-shutdown", "image-pending"])
        #expect(waits[0].outcome == "timeout" && waits[0].finishedAt != nil)
        #expect(waits[1].seq == b && waits[1].outcome == nil && waits[1].finishedAt == nil)
        try l.recordResource(runId: run.id, kind: "instance", id: "i-9", step: "launch-clones")
        try l.recordResourceDetail(kind: "instance", id: "i-9", ["purpose": "clone-a"])
        try l.recordResourceDetail(kind: "instance", id: "i-9", ["privateIp": "10.0.0.9"])
        #expect(try l.resourceDetail(kind: "instance", id: "i-9") == ["purpose": "clone-a", "privateIp": "10.0.0.9"])
    }
}

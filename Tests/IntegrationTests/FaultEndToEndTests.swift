import Testing
import Foundation
import AWSCore
import AWSHTTP
import ClonectlLedger
import TestSupport

/// The workflow through the binary while the local AWS misbehaves: nothing lost, nothing created twice.
@Suite(.serialized) struct FaultEndToEndTests {
    typealias W = EndToEndTests

    static func post(_ w: W.World, _ path: String, _ body: Any) async throws {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.execute(
            HTTPRequest(method: "POST", url: w.local.controlEndpoint! + path, headers: [HTTPHeader("Content-Type", "application/json")],
                        body: Array(try JSONSerialization.data(withJSONObject: body))), options: HTTPRequestOptions())
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
    }

    /// Counts what the run made, by its tags.
    static func made(_ w: W.World, runId: String) async throws -> (source: Int, master: Int, workCopies: Int, clones: Int) {
        let images = try await w.aws.ec2.describeImages(filters: [EC2Filter("tag:clonectl:run", [runId])])
        let instances = try await w.aws.ec2.describeAllInstances(filters: [EC2Filter("tag:clonectl:run", [runId])])
        return (images.filter { $0.tag("clonectl:role") == "source" }.count,
                images.filter { $0.tag("clonectl:role") == "master" }.count,
                instances.filter { $0.tag("clonectl:role") == "work-copy" }.count,
                instances.filter { $0.tag("clonectl:role") == "clone" }.count)
    }

    @Test func throttlingErrorsAndDroppedConnectionsAreSurvived() async throws {
        let w = try W.world()
        try await Self.post(w, "/faults", ["rules": [
            ["fault": "throttle", "api": "*", "share": 0.2],
            ["fault": "error5xx", "api": "*", "share": 0.07],
            ["fault": "drop", "api": "ssm:ListCommandInvocations", "share": 0.1],
        ]])
        let r = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let runId = try #require(try Ledger(path: w.ledger).runs().first?.id)
        let made = try await Self.made(w, runId: runId)
        #expect(made.source == 1 && made.master == 1 && made.workCopies == 1 && made.clones == 2, "\(made)")
        let faults = try await W.control(w, "/faults")
        let fired = (faults["rules"] as? [[String: Any]] ?? []).map { $0["fired"] as? Int ?? 0 }
        #expect(fired.allSatisfy { $0 > 0 }, "every fault really happened: \(faults)")
    }

    @Test func aTamperedEnvelopeStopsTheRunAndAResumeFinishesIt() async throws {
        let w = try W.world()
        try await Self.post(w, "/faults", ["rules": [["fault": "tamperEnvelope", "count": 1]]])
        let first = try w.run(["run", w.plan.path])
        #expect(first.status == 1)
        #expect(first.stderr.contains("envelope tampered"), "stderr: \(first.stderr)")
        let second = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let runs = try ledger.runs()
        #expect(runs.count == 1 && runs.first?.status == "succeeded")
        let made = try await Self.made(w, runId: runs[0].id)
        #expect(made.source == 1 && made.master == 1 && made.clones == 2, "\(made)")
    }

    @Test func anUndeliverableCommandAndALostAgentAreReportedThenResumed() async throws {
        let w = try W.world()
        try await Self.post(w, "/config", ["timeScale": 0.002])
        try await Self.post(w, "/faults", ["rules": [["fault": "undeliverable", "count": 1]]])
        let first = try w.run(["run", w.plan.path])
        #expect(first.status == 1)
        #expect(first.stderr.contains("Undeliverable"), "stderr: \(first.stderr)")
        // Resume as far as the clones, then lose one clone's agent across the host-name reboot.
        let upToClones = try w.run(["run", w.plan.path, "--until", "launch-clones"])
        #expect(upToClones.status == 0, "stderr: \(upToClones.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id)
        let clone = try #require(try ledger.resources(runId: runId).first { $0.kind == "instance" && $0.step == "launch-clones" }?.id)
        try await Self.post(w, "/faults", ["rules": [["fault": "agentNotBack", "instanceId": clone, "count": 1]]])
        let lost = try w.run(["run", w.plan.path])
        #expect(lost.status == 1, "the host-name reboot never comes back: stderr \(lost.stderr)")
        #expect(lost.stderr.contains(clone))
        // The operator gets the agent back (a restart from the console), then resumes.
        try await Self.post(w, "/faults", ["rules": [] as [Any]])
        try await Self.post(w, "/guests/\(clone)", ["agentGone": false])
        let last = try w.run(["run", w.plan.path])
        #expect(last.status == 0, "stderr: \(last.stderr)")
        #expect(try ledger.runs().count == 1, "every attempt resumed the same run")
        let made = try await Self.made(w, runId: runId)
        #expect(made.source == 1 && made.master == 1 && made.clones == 2, "\(made)")
    }

    @Test func aSysprepBlockerIsRefusedWithItsReason() async throws {
        let w = try W.world()
        try await Self.post(w, "/faults", ["rules": [["fault": "sysprepBlocker", "reason": "BitLocker is on for C:"]]])
        let r = try w.run(["run", w.plan.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("BitLocker"), "stderr: \(r.stderr)")
    }

    @Test func anInvalidPlanIsRefusedBeforeAnyCall() async throws {
        let w = try W.world()
        let before = try await W.callCount(w)
        let bad = w.dir.appendingPathComponent("bad.yaml")
        try String(contentsOf: w.plan, encoding: .utf8).replacingOccurrences(of: "hostName: APP03", with: "hostName: APP03-IS-FAR-TOO-LONG")
            .write(to: bad, atomically: true, encoding: .utf8)
        let r = try w.run(["run", bad.path])
        #expect(r.status == 65)
        #expect(r.stderr.contains("clones[1].hostName"))
        #expect(try await W.callCount(w) == before)
    }
}

import Testing
import Foundation
import ClonectlLedger
import TestSupport

/// The guest states the 1.1.0 payloads refuse (review of payloads 1.0.0), through the binary against the local AWS:
/// each is reported clearly, and once an operator fixes it on the guest the same `clonectl run` resumes and finishes.
/// One world for all five (they hit different steps of one run), so the suite costs one workflow, not five.
@Suite(.serialized) struct GuestFaultEndToEndTests {
    typealias W = EndToEndTests
    typealias F = FaultEndToEndTests

    /// Every instance the run made, plus the source: a fix is applied to each (harmless where it does not apply).
    static func instances(_ w: W.World) throws -> [String] {
        let ledger = try Ledger(path: w.ledger)
        guard let run = try ledger.runs().first else { return [w.local.sourceInstanceId] }
        return [w.local.sourceInstanceId] + (try ledger.resources(runId: run.id).filter { $0.kind == "instance" }.map(\.id))
    }

    @Test func eachGuestFaultIsReportedClearlyAndTheRunResumesOnceItIsFixed() async throws {
        let w = try W.world()
        let credential = try #require(w.local.domainCredentialParameter, "the local AWS seeds a domain credential")
        var plan = try String(contentsOf: w.plan, encoding: .utf8)
        plan = plan.replacingOccurrences(
            of: "hostName: APP03, timeZone: Tokyo Standard Time}",
            with: "hostName: APP03, timeZone: Tokyo Standard Time, domain: {name: corp.example.com, credentialParameter: \(credential)}}")
        try plan.write(to: w.plan, atomically: true, encoding: .utf8)
        // Each fires once, on the first invocation of its payload; its effect stays on that guest until fixed.
        try await F.post(w, "/faults", ["rules": [
            ["fault": "ec2LaunchBusy", "payload": "sysprep", "count": 1],
            ["fault": "setHostNameTask", "payload": "hostname", "count": 1],
            ["fault": "insecureDataRoot", "payload": "firewall-restore", "count": 1],
            ["fault": "computerAccountExists", "payload": "domain-join", "count": 1],
            ["fault": "serviceWontStart", "payload": "jobs-restore", "service": "AppSvc", "count": 1],
        ]])
        // In workflow order: what the operator reads, and what they change on the guest to fix it.
        let cases: [(step: String, says: [String], fix: [String: Any])] = [
            ("sysprep", ["sysprep did not succeed", "EC2Launch v2 is still running its stages", "run sysprep again"],
             ["ec2LaunchStatus": "ok"]),
            ("hostname", ["hostname did not succeed", "active setHostName task", "remove that task"],
             ["ec2LaunchTasks": ["extendRootPartition", "setAdminAccount", "startSsm"]]),
            ("firewall-restore", ["firewall-restore did not succeed", "not safe to trust", "journal.json",
                                  "not by SYSTEM or Administrators"],
             ["dataRoot": ["owner": "S-1-5-32-544", "protected": true]]),
            ("domain-join", ["domain-join did not succeed", "already exists in the domain", "KB5020276"],
             ["domainComputerAccounts": [String]()]),
            ("jobs-restore", ["jobs-restore did not succeed", "AppSvc could not start", "its start type is restored"],
             ["serviceStartFailures": [String: String]()]),
        ]
        for c in cases {
            let r = try w.run(["run", w.plan.path])
            #expect(r.status == 1, "\(c.step) should stop the run: stderr \(r.stderr)")
            for text in c.says { #expect(r.stderr.contains(text), "\(c.step): '\(text)' missing from stderr: \(r.stderr)") }
            #expect(!r.stderr.contains(w.local.secretAccessKey.prefix(12)), "no secret in what the operator reads")
            // The first fault leaves a real failed run in the ledger: its report is a golden too (failures first).
            if c.step == "sysprep" { try Self.checkFailedReport(w) }
            for id in try Self.instances(w) { try await F.post(w, "/guests/\(id)", c.fix) }
        }
        let done = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(done.status == 0, "after every fix the run finishes: stderr \(done.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let runs = try ledger.runs()
        #expect(runs.count == 1 && runs.first?.status == "succeeded", "one run, resumed five times")
        let faults = try await W.control(w, "/faults")
        let fired = (faults["rules"] as? [[String: Any]] ?? []).map { $0["fired"] as? Int ?? 0 }
        #expect(fired == [1, 1, 1, 1, 1], "every guest fault really happened once: \(faults)")
        // What the fixes led to: the domain clone joined, its service runs, the names held.
        let made = try await F.made(w, runId: runs[0].id)
        #expect(made.clones == 2 && made.master == 1, "\(made)")

        // A plan that pins a superseded version is warned, with the reason; an unknown version is a plan error.
        let pinned = w.dir.appendingPathComponent("pinned.yaml")
        try (plan.replacingOccurrences(of: "name: e2e\n", with: "name: e2e-pinned\n") + "\npayloads:\n  hostname: 1.0.0\n")
            .write(to: pinned, atomically: true, encoding: .utf8)
        let dry = try w.run(["run", pinned.path, "--dry-run"])
        #expect(dry.status == 0, "stderr: \(dry.stderr)")
        #expect(dry.stderr.contains("warning: the plan pins hostname@1.0.0, which is superseded (latest 1.1.0)"), "stderr: \(dry.stderr)")
        try (plan.replacingOccurrences(of: "name: e2e\n", with: "name: e2e-pinned\n") + "\npayloads:\n  hostname: 9.9.9\n")
            .write(to: pinned, atomically: true, encoding: .utf8)
        let unknown = try w.run(["run", pinned.path, "--dry-run"])
        #expect(unknown.status == 65 && unknown.stderr.contains("hostname has no version 9.9.9"), "stderr: \(unknown.stderr)")
    }
}

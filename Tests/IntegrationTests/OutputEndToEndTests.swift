import Testing
import Foundation
import ClonectlLedger
import ClonectlWorkflow
import TestSupport

/// The output contract on a real run against the local AWS, through the binary: one JSON document on stdout per
/// command (stderr discarded), valid against controller/schemas/ (scripts/validate_json.py, jsonschema), on failure
/// and on success; the resume hint repeats the options given; the recap counts ok/changed/failed/reboots per
/// instance and keeps the `changed` of a step that rebooted (3010).
@Suite(.serialized) struct OutputEndToEndTests {
    typealias W = EndToEndTests

    /// Runs clonectl with exactly `args` (no --ledger added) and the world's environment.
    static func clonectl(_ w: W.World, _ args: [String], env: [String: String]? = nil) throws -> CLIRun {
        try CLIRun.run(args, environment: env ?? w.env)
    }

    /// The one document on stdout, checked against its schema; the parsed object.
    static func document(_ r: CLIRun, _ what: String) throws -> [String: Any] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-doc-\(UUID().uuidString).json")
        try r.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: TestEnvironment.python)
        check.arguments = [TestEnvironment.repoRoot.appendingPathComponent("scripts/validate_json.py").path, file.path]
        let err = Pipe()
        check.standardError = err
        try check.run()
        let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(what): not one valid document: \(problems)\n\(r.stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(what): \(r.stdout)")
    }

    @Test func aFailedRunAndItsResumeEachGiveOneValidDocumentWithTheRecap() async throws {
        let w = try W.world()
        // The output of a 3010 step holds the run before the reboot too (the agent behaviour the recap relies on).
        try await FaultEndToEndTests.post(w, "/config", ["rebootOutputAll": 1])
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [["fault": "tamperEnvelope", "count": 1]]])
        var env = w.env
        env["AWS_REGION"] = nil
        env["AWS_ENDPOINT_URL"] = nil
        let given = ["--ledger", w.ledger, "--region", w.local.region, "--endpoint-url", w.local.endpoint]

        // 1. A failed run: exit 1, one document with the error, the steps and the resume hint with every option given.
        let failed = try Self.clonectl(w, ["run", w.plan.path, "--output", "json"] + given, env: env)
        #expect(failed.status == 1, "stderr: \(failed.stderr)")
        let bad = try Self.document(failed, "failed run")
        let error = try #require(bad["error"] as? [String: Any])
        #expect(bad["ok"] as? Bool == false && error["code"] as? String == "run-failed" && error["exitCode"] as? Int == 1)
        let hint = "clonectl run \(w.plan.path) --ledger \(w.ledger) --region \(w.local.region) --endpoint-url \(w.local.endpoint)"
        #expect((error["message"] as? String)?.contains(hint) == true, "the resume hint repeats the options: \(error)")
        #expect(!(error["message"] as? String ?? "").contains("CancellationError"))
        let steps = try #require(bad["steps"] as? [[String: Any]])
        #expect(steps.contains { $0["name"] as? String == "preflight" && $0["status"] as? String == "failed" })
        #expect(bad["status"] as? String == "failed")

        // 2. Text mode says the same on stderr; stdout is the recap.
        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id)

        // 3. The resume succeeds: one document, steps with durations, the recap per instance.
        let resumed = try Self.clonectl(w, ["run", w.plan.path, "--output", "json"] + given, env: env)
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stderr.contains("Resuming \(runId)"), "progress goes to stderr: \(resumed.stderr)")
        let good = try Self.document(resumed, "resumed run")
        #expect(good["ok"] as? Bool == true && good["status"] as? String == "succeeded" && good["run"] as? String == runId)
        let done = try #require(good["steps"] as? [[String: Any]])
        #expect(done.map { $0["name"] as? String } == StepName.allCases.map(\.rawValue), "every step, in workflow order")
        #expect(done.allSatisfy { $0["status"] as? String == "succeeded" && ($0["seconds"] as? Double ?? -1) >= 0 })
        #expect((good["wallSeconds"] as? Double ?? 0) > 0)
        let recap = try #require(good["recap"] as? [[String: Any]])
        let clones = try #require(good["clones"] as? [String: String])
        for (name, id) in clones {
            let row = try #require(recap.first { $0["instance"] as? String == id }, "\(recap)")
            #expect(row["role"] as? String == "clone \(name)")
            #expect(row["failed"] as? Int == 0)
            #expect(row["reboots"] as? Int == 1, "hostname rebooted the clone once: \(row)")
            // hostname (kept changed across its reboot) and time-zone at least changed something.
            #expect((row["changed"] as? Int ?? 0) >= 2, "\(row)")
            #expect((row["ok"] as? Int ?? 0) >= (row["changed"] as? Int ?? 0), "ok counts the changed ones: \(row)")
        }
        let source = try #require(recap.first { $0["role"] as? String == "source" })
        // preflight, jobs-stop and source-restore at least (the access aids go to the work copy by default).
        #expect((source["ok"] as? Int ?? 0) >= 3 && source["reboots"] as? Int == 0, "\(source)")

        // 4. history keeps the pre-reboot `changed` of hostname (RESULT column, JSON result).
        let history = try Self.document(try w.run(["history", "--run", runId, "--step", "post-clone", "--output", "json"]), "history")
        let rows = try #require(history["history"] as? [[String: Any]])
        let hostname = rows.filter { ($0["payload"] as? String)?.hasPrefix("hostname@") == true }
        #expect(hostname.count == 2 && hostname.allSatisfy { $0["result"] as? String == "changed" && $0["reboots"] as? Int == 1 },
                "\(hostname)")
        let table = try w.run(["history", "--run", runId])
        let header = try #require(table.stdout.split(separator: "\n").first)
        #expect(header.contains("STATUS") && header.contains("RESULT") && header.contains("REBOOTS"), "\(header)")
        #expect(table.stdout.split(separator: "\n").contains { $0.contains("hostname@") && $0.contains(" changed ") })

        // 5. Every other command on this run: status, show, step (ok and failing), doctor, dry run, cleanup.
        let status = try Self.document(try w.run(["status", runId, "--output", "json"]), "status RUN")
        #expect((status["recap"] as? [[String: Any]])?.filter { $0["reboots"] as? Int == 1 }.count == 2,
                "status RUN has the run's recap: \(status["recap"] ?? "-")")
        _ = try Self.document(try w.run(["status", "--output", "json"]), "status")
        let command = try #require(hostname.first?["command"] as? String)
        let shown = try Self.document(try w.run(["show", command, "--output", "json"]), "show")
        #expect((shown["invocations"] as? [[String: Any]])?.first?["result"] as? String == "changed")
        let clone = try #require(clones["app02"])
        let step = try w.run(["step", "verify", "--instance", clone, "--param", "ExpectedHostName=APP02", "--output", "json"])
        #expect(step.status == 0, "stderr: \(step.stderr)")
        #expect(try Self.document(step, "step")["succeeded"] as? Int == 1)
        let wrong = try w.run(["step", "verify", "--instance", clone, "--param", "ExpectedHostName=NOPE01", "--output", "json"])
        #expect(wrong.status == 1)
        let wrongDoc = try Self.document(wrong, "failing step")
        #expect((wrongDoc["error"] as? [String: Any])?["code"] as? String == "step-failed" && wrongDoc["failed"] as? Int == 1)
        let doctor = try w.run(["doctor", w.plan.path, "--output", "json"])
        #expect(doctor.status == 0, "\(doctor.stdout)")
        _ = try Self.document(doctor, "doctor")
        _ = try Self.document(try w.run(["run", w.plan.path, "--dry-run", "--output", "json"]), "dry run")
        let cleanup = try w.run(["cleanup", runId, "--output", "json"])
        #expect(cleanup.status == 0, "stderr: \(cleanup.stderr)")
        _ = try Self.document(cleanup, "cleanup")
    }

    @Test func aTextRunPrintsTheRecapOnStdoutAndTheHintOnStderr() async throws {
        let w = try W.world()
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [["fault": "tamperEnvelope", "count": 1]]])
        // A profile of its own, given with --profile: the hint must repeat it.
        let aws = w.dir.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try "[profile e2e]\nregion = \(w.local.region)\n".write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try "[e2e]\naws_access_key_id = \(w.local.accessKeyId)\naws_secret_access_key = \(w.local.secretAccessKey)\n"
            .write(to: aws.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        let failed = try w.run(["run", w.plan.path, "--profile", "e2e"])
        #expect(failed.status == 1, "stderr: \(failed.stderr)")
        #expect(failed.stderr.contains("Run `clonectl run \(w.plan.path) --ledger \(w.ledger) --profile e2e` again to resume"),
                "stderr: \(failed.stderr)")
        #expect(failed.stdout.contains("STEP") && failed.stdout.contains("preflight") && failed.stdout.contains("failed"),
                "the summary of what was done: \(failed.stdout)")
        let ok = try w.run(["run", w.plan.path, "--until", "restore-source"])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        #expect(ok.stdout.contains("RECAP") && ok.stdout.contains("source "), "\(ok.stdout)")
        #expect(ok.stdout.contains("changed="), "\(ok.stdout)")
        let runId = try #require(try Ledger(path: w.ledger).runs().first?.id)
        #expect(try Ledger(path: w.ledger).run(id: runId).status == "interrupted", "--until does not leave it running")
        let status = try w.run(["status"])
        #expect(status.stdout.contains("interrupted"), "\(status.stdout)")
    }
}

import Testing
import Foundation
import AWSCore
import AWSCredentials
import ClonectlAgent
import ClonectlLedger
import TestSupport
@testable import ClonectlWorkflow

/// How the controller handles each Run Command status the simulator can now force (issue 17): Delayed (it waits
/// and succeeds), Cancelling then Cancelled, Cancelled/Terminated (a failure that says why), and a Details output
/// cut in UTF-8 bytes (it fetches the full output). One local AWS for the suite, through `clonectl step`.
@Suite(.serialized) struct StatusEndToEndTests {
    typealias W = EndToEndTests
    static let world = Result { try W.world() }

    func step(_ w: W.World, _ faults: [[String: Any]]) async throws -> CLIRun {
        try await FaultEndToEndTests.post(w, "/faults", ["rules": faults])
        let r = try w.run(["step", "preflight", "--instance", w.local.sourceInstanceId])
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [] as [Any]])
        return r
    }

    @Test func delayedIsWaitedOutAndTheStepSucceeds() async throws {
        let w = try Self.world.get()
        let r = try await step(w, [["fault": "delayed", "seconds": 1.5, "count": 1]])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        #expect(r.stdout.contains("Success, envelope verified"), "\(r.stdout)")
    }

    @Test func aCancelledInvocationFailsTheStepAndSaysSo() async throws {
        let w = try Self.world.get()
        let r = try await step(w, [["fault": "cancelling", "seconds": 0.5, "count": 1]])
        #expect(r.status != 0)
        #expect(r.stdout.contains("Cancelled") && r.stdout.contains("cancelled"), "\(r.stdout)")
    }

    @Test func terminatedByMaxErrorsFailsTheStepAndNamesMaxErrors() async throws {
        let w = try Self.world.get()
        let r = try await step(w, [["fault": "terminated", "count": 1]])
        #expect(r.status != 0)
        #expect(r.stdout.contains("Cancelled") && r.stdout.contains("MaxErrors"), "\(r.stdout)")
    }

    @Test func aDetailsOutputCutInBytesIsFetchedWhole() async throws {
        let w = try Self.world.get()
        // 60 lines of Japanese before the envelope: 2,500 bytes of Details are about 830 characters.
        let warning = String(repeating: "警告: この操作には時間がかかります。\r\n", count: 60)
        let r = try await step(w, [["fault": "outputPrefix", "text": warning, "count": 1]])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        #expect(r.stdout.contains("envelope verified"), "\(r.stdout)")
        let calls = try await W.control(w, "/calls?api=ssm:GetCommandInvocation")
        #expect(((calls["counts"] as? [String: Int])?["ssm:GetCommandInvocation"] ?? 0) >= 1,
                "the full output was fetched: \(calls["counts"] ?? "")")
    }

    /// Issue 14: 30,000 bytes before the envelope. Run Command's API keeps 24,000, so without a bucket the step fails
    /// (truncated); with --output-s3-bucket the simulated agent uploads the whole stdout to moto's S3 at the agent's
    /// key, the controller reads it there (S3's SigV4, signature checking on), verifies the envelope, and `show`
    /// says where it is. A bucket that does not exist, or a prefix too long, is refused with what to fix.
    @Test func anEnvelopeCutAt24000BytesIsCompletedFromS3() async throws {
        let w = try Self.world.get()
        let bucket = "clonectl-e2e-output"
        let settings = try AWSSettings.resolve(environment: w.env)
        let session = try AWSSession(settings: settings)
        defer { session.shutdown() }
        try await session.s3.createBucket(bucket: bucket)
        let noise = String(repeating: "Avertissement : opération longue, veuillez patienter…\r\n", count: 560)
        #expect(noise.utf8.count > 30_000)
        let source = w.local.sourceInstanceId

        let cut = try await step(w, [["fault": "outputPrefix", "text": noise, "count": 1]])
        // The BEGIN line lies beyond the 24,000 bytes the API returns.
        #expect(cut.status != 0 && cut.stdout.contains("envelope missing"), "without a bucket: \(cut.stdout)")

        try await FaultEndToEndTests.post(w, "/faults", ["rules": [["fault": "outputPrefix", "text": noise, "count": 1]]])
        let r = try w.run(["step", "preflight", "--instance", source, "--output-s3-bucket", bucket,
                           "--output-s3-key-prefix", "runs/e2e/"])
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [] as [Any]])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        #expect(r.stdout.contains("Success, envelope verified"), "\(r.stdout)")
        let commandId = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("command ") }?
            .split(separator: " ")[1]).description
        let key = "runs/e2e/\(commandId)/\(source)/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout"
        let whole = String(decoding: try await session.s3.getObject(bucket: bucket, key: key), as: UTF8.self)
        #expect(whole.hasPrefix(noise) && whole.utf8.count > 30_000)

        let shown = try OutputEndToEndTests.document(try w.run(["show", commandId, "--output", "json"]), "show")
        let inv = try #require((shown["invocations"] as? [[String: Any]])?.first)
        let full = try #require(inv["fullOutput"] as? [String: Any], "\(inv)")
        #expect(full["stdout"] as? String == "s3://\(bucket)/\(key)" && full["completedFromS3"] as? Bool == true, "\(full)")
        #expect(inv["verdict"] as? String == "verified" && (inv["output"] as? String)?.hasPrefix(noise) == true)
        let text = try w.run(["show", commandId])
        #expect(text.stdout.contains("full output: s3://\(bucket)/\(key) (Run Command cut it at 24,000 bytes"), "\(text.stdout)")

        let missing = try w.run(["step", "preflight", "--instance", source, "--output-s3-bucket", "clonectl-no-such-bucket"])
        #expect(missing.status != 0)
        #expect((missing.stdout + missing.stderr).contains("InvalidOutputFolder")
                && (missing.stdout + missing.stderr).contains("Nothing was sent"), "\(missing.stdout)\n\(missing.stderr)")
        // doctor checks a plan's output bucket: there, and not there.
        let planText = try String(contentsOf: w.plan, encoding: .utf8)
        let withOutput = w.dir.appendingPathComponent("plan-output.yaml")
        try (planText + "\noutput: {s3Bucket: \(bucket), s3KeyPrefix: runs/e2e/}\n").write(to: withOutput, atomically: true, encoding: .utf8)
        let doctor = try w.run(["doctor", withOutput.path])
        #expect(doctor.status == 0 && doctor.stdout.contains("s3://\(bucket)/runs/e2e/ exists"), "\(doctor.stdout)\n\(doctor.stderr)")
        try (planText + "\noutput: {s3Bucket: clonectl-no-such-bucket}\n").write(to: withOutput, atomically: true, encoding: .utf8)
        let noBucket = try w.run(["doctor", withOutput.path])
        #expect(noBucket.status == 1 && (noBucket.stdout + noBucket.stderr).contains("bucket clonectl-no-such-bucket does not exist"),
                "\(noBucket.stdout)\n\(noBucket.stderr)")
        let long = try w.run(["step", "preflight", "--instance", source, "--output-s3-bucket", bucket,
                              "--output-s3-key-prefix", String(repeating: "p/", count: 260)])
        #expect(long.status == 64 && long.stderr.contains("at most 500"), "\(long.status) \(long.stderr)")
    }

    @Test func oneUndeliveredInstanceOfTwoIsNamedAndTheCommandIsIncomplete() async throws {
        let w = try Self.world.get()
        var input = RunInstancesInput(imageId: w.local.sourceImageId, instanceType: "m5.large")
        input.subnetId = w.local.subnetId
        let clone = try #require(try await w.aws.ec2.runInstances(input).instances.first?.instanceId)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {  // registered with SSM (its agent reported in) before it is a valid target
            let rows = try await w.aws.ssm.describeInstanceInformation(
                filters: [InstanceInformationFilter(key: "InstanceIds", values: [clone])]).instanceInformationList
            if rows.first?.pingStatus == "Online" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [["fault": "deliveryTimedOut", "instanceId": clone]]])
        let r = try w.run(["step", "preflight", "--instance", w.local.sourceInstanceId, "--instance", clone])
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [] as [Any]])
        #expect(r.status != 0)
        #expect(r.stdout.contains("1 of 2 instance(s) succeeded"), "\(r.stdout)")
        #expect(r.stdout.contains("\(clone): TimedOut") && r.stdout.contains("delivery timeout"), "\(r.stdout)")
        let command = try #require(try await w.aws.ssm.listCommands(instanceId: clone).commands.first)
        #expect(command.status == "Failed" && command.statusDetails == "Incomplete", "\(command)")
        #expect(command.errorCount == 0 && command.deliveryTimedOutCount == 1)
    }
}

/// Issue 14, beside `anEnvelopeCutAt24000BytesIsCompletedFromS3`: sysprep-logs 1.2.0 returns whole Panther logs when
/// the plan's `output:` names a bucket. A work copy whose Sysprep fails (the simulator's sysprepFails fault: 3,000
/// lines of 400 characters, 1.2 MB) is never stopped; the step's error names the files the whole logs were saved to,
/// and those files hold every seeded line, uncut; the envelope (over 24,000 bytes) was completed from S3 and
/// verified, and the ledger row stays bounded. `step sysprep-logs --param Whole=true` without a bucket is refused.
@Suite(.serialized) struct WholeSysprepLogsEndToEndTests {
    typealias W = EndToEndTests
    static let world = Result { try W.world() }

    /// The simulator's sysprep_failure_lines(lines, width) (localaws/sim.py), rebuilt here.
    static func seeded(lines n: Int, width: Int) -> [String] {
        (1...n).map { i in
            let kind = (i % 10 == 0 || i == n) ? "Error" : "Info "
            var head = String(format: "2026-12-03 03:%02d:%02d, ", (i / 60) % 60, i % 60)
                + "\(kind) [sysprep.exe] SYSPRP line \(i) of \(n): "
            if i == n { head += "Sysprep_Generalize failed (0x80070005) " }
            return String((head + String(repeating: "x", count: width)).prefix(max(width, head.count)))
        }
    }

    @Test func aFailedSysprepSavesTheWholePantherLogsReadFromS3() async throws {
        let w = try Self.world.get()
        let bucket = "clonectl-e2e-panther"
        let settings = try AWSSettings.resolve(environment: w.env)
        let session = try AWSSession(settings: settings)
        defer { session.shutdown() }
        try await session.s3.createBucket(bucket: bucket)

        // Without a bucket, Whole=true is refused before anything is sent.
        let sentBefore = ((try await W.control(w, "/calls?api=ssm:SendCommand"))["counts"] as? [String: Int])?["ssm:SendCommand"] ?? 0
        let refused = try w.run(["step", "sysprep-logs", "--instance", w.local.sourceInstanceId, "--param", "Whole=true"])
        #expect(refused.status == 64 && refused.stderr.contains("needs --output-s3-bucket")
                && refused.stderr.contains("24,000"), "\(refused.status) \(refused.stderr)")
        let sentAfter = ((try await W.control(w, "/calls?api=ssm:SendCommand"))["counts"] as? [String: Int])?["ssm:SendCommand"] ?? 0
        #expect(sentAfter == sentBefore, "nothing was sent")

        var plan = try String(contentsOf: w.plan, encoding: .utf8)
        plan += "\noutput: {s3Bucket: \(bucket), s3KeyPrefix: runs/panther/}\n"
        try plan.write(to: w.plan, atomically: true, encoding: .utf8)
        let (n, width) = (3000, 400)
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [
            ["fault": "sysprepFails", "payload": "sysprep", "lines": n, "width": width, "count": 1]]])
        var env = w.env
        env["CLONECTL_SYSPREP_SHUTDOWN_SECONDS"] = "3"
        let r = try CLIRun.run(["run", w.plan.path, "--ledger", w.ledger], environment: env)
        try await FaultEndToEndTests.post(w, "/faults", ["rules": [] as [Any]])
        #expect(r.status == 1, "the run stops at sysprep: \(r.stderr)")
        #expect(r.stderr.contains("Sysprep did not shut") && r.stderr.contains("Its whole Sysprep logs were saved to:"), "\(r.stderr)")
        #expect(r.stderr.contains("s3://\(bucket)/runs/panther/") && r.stderr.contains("envelope verified"), "\(r.stderr)")
        #expect(r.stderr.contains("setuperr.log ends with:") && r.stderr.contains("SYSPRP line \(n) of \(n)"), "\(r.stderr)")

        // The saved setupact.log holds every seeded line, whole (the 1.1.0 tails would cut them at 300 and keep 40).
        let saved = r.stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("/") && $0.contains("sysprep-logs") }
        let act = try #require(saved.first { $0.contains("Sysprep_Panther_setupact.log") }, "\(saved)")
        let path = String(act.prefix { $0 != " " })
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let want = Self.seeded(lines: n, width: width)
        #expect(lines.count >= n && Array(lines.suffix(n)) == want, "\(lines.count) lines in \(path)")
        let err = try #require(saved.first { $0.contains("setuperr.log") }, "\(saved)")
        let errLines = try String(contentsOfFile: String(err.prefix { $0 != " " }), encoding: .utf8).split(separator: "\n")
        #expect(errLines.suffix(n / 10).map(String.init) == want.filter { $0.contains("Error") }.suffix(n / 10))

        // The envelope came from S3 and was verified; the ledger keeps Run Command's copy, not 1.2 MB.
        let ledger = try Ledger(path: w.ledger)
        let run = try #require(try ledger.runs().first)
        let command = try #require(try ledger.commands(runId: run.id, step: "sysprep-logs").last)
        #expect(command.version == "1.2.0" && command.parametersJSON.contains("\"Whole\":true"), "\(command)")
        let inv = try #require(try ledger.invocations(commandId: command.commandId).first)
        #expect(inv.verdict == "verified", "\(inv.verdict ?? "-")")
        #expect((inv.output?.utf8.count ?? 0) <= 24_000 && (inv.resultJSON?.utf8.count ?? 0) < 64 * 1024,
                "ledger row: output \(inv.output?.utf8.count ?? 0), result \(inv.resultJSON?.utf8.count ?? 0)")
        #expect(inv.resultJSON?.contains("\"wholeOutput\":\"s3://\(bucket)/runs/panther/") == true, "\(inv.resultJSON ?? "")")
        let full = try #require(try ledger.invocationOutputs(commandId: command.commandId).first)
        #expect(full.completedFromS3, "\(full)")
        let key = String(full.stdoutURL.dropFirst("s3://\(bucket)/".count))
        let whole = try await session.s3.getObject(bucket: bucket, key: key)
        #expect(whole.count > 1_000_000, "the whole envelope is in S3: \(whole.count) bytes")
        // Over the reader's bound the object is refused, named, not read whole.
        do {
            _ = try await FullOutputReader(s3: session.s3, limit: 100_000).stdout(bucket: bucket, key: key, commandId: "c", instanceId: "i")
            Issue.record("an object over the bound must be refused")
        } catch {
            #expect("\(error)".contains("s3://\(bucket)/\(key)") && "\(error)".contains("\(whole.count) bytes"), "\(error)")
        }
        #expect(try await FullOutputReader(s3: session.s3, limit: whole.count).stdout(bucket: bucket, key: key, commandId: "c",
                                                                                    instanceId: "i").utf8.count == whole.count)

        // A resume polls the recorded command again: the ledger's copy does not verify on its own, so the whole
        // output is read from S3 again and verified there (the same verdict, the whole envelope back).
        var polling = GuestRunner.Polling()
        polling.firstDelay = .milliseconds(100)
        let store = try PayloadStore(root: URL(fileURLWithPath: try #require(w.env["CLONECTL_PAYLOADS"])))
        let resumed = try await GuestRunner(ssm: session.ssm, store: store, ledger: ledger, polling: polling, s3: session.s3)
            .poll(command, progress: nil)
        let again = try #require(resumed.first)
        #expect(again.verdict == .verified && again.succeeded, "\(again.verdict) \(again.reason)")
        #expect(again.envelope?.facts["logs"]?.arrayValue?.first?["lines"]?.arrayValue?.count ?? 0 >= n)
        let after = try #require(try ledger.invocations(commandId: command.commandId).first)
        #expect((after.output?.utf8.count ?? 0) <= 24_000, "the resumed row stays bounded")
        ledger.close()

        let shown = try OutputEndToEndTests.document(try w.run(["show", command.commandId, "--output", "json"]), "show")
        let row = try #require((shown["invocations"] as? [[String: Any]])?.first)
        #expect(row["verdict"] as? String == "verified" && (row["fullOutput"] as? [String: Any])?["completedFromS3"] as? Bool == true)
        let text = try w.run(["show", command.commandId])
        #expect(text.stdout.contains("full output: \(full.stdoutURL) (Run Command cut it at 24,000 bytes; the envelope was read and verified from there; below is Run Command's copy"), "\(text.stdout.prefix(2000))")
    }
}

import Testing
import Foundation
import AWSCore
import AWSCredentials
import ClonectlCrypto
import ClonectlLedger
import TestSupport

/// Issue 14, documents mode, through the real binary on RunSafetyEndToEndTests' local AWS (one for the suite, CI
/// time): the documents are published to moto (CreateDocument / UpdateDocument), the simulator runs each command by
/// reading the document version from moto, checking DocumentHash and allowedPattern as SSM does. Each case uses a
/// document prefix of its own, since moto's documents outlive a case.
extension RunSafetyEndToEndTests {
    static func prefix() -> String { "e2e\(UUID().uuidString.prefix(6).lowercased())-" }

    /// `clonectl documents ...`: no ledger involved.
    static func documents(_ w: World, _ args: [String]) throws -> CLIRun {
        try CLIRun.run(["documents"] + args, environment: w.env)
    }

    /// The one document on stdout, checked against its schema (controller/schemas/, scripts/validate_json.py).
    static func json(_ r: CLIRun) throws -> [String: Any] {
        try OutputEndToEndTests.document(r, "clonectl \(r.stderr.prefix(200))")
    }

    /// The whole demo in documents mode: refused clearly before publishing; publish, publish again (a no-op),
    /// verify; then the plan runs to the end with every command sent as a pinned clonectl document, recorded so.
    /// The plan names an `output:` (bucket, key prefix, log group): the agent writes each command's whole stdout at
    /// its key layout for a 2.2 document (the step name), streams it to the log group, and `show` says where.
    @Test func theWholeRunInDocumentsMode() async throws {
        let w = try await Self.world("docs")
        let prefix = Self.prefix()
        let bucket = "clonectl-out-\(prefix.dropLast())", keyPrefix = "runs/\(prefix.dropLast())/", logGroup = "/clonectl/\(prefix.dropLast())"
        let outputFill = ["output-bucket": bucket, "output-prefix": String(keyPrefix.dropLast())]
        let settings = try AWSSettings.resolve(environment: w.env)
        let session = try AWSSession(settings: settings)
        defer { session.shutdown() }
        try await session.s3.createBucket(bucket: bucket)
        try (try String(contentsOf: w.plan, encoding: .utf8) + "documents: {mode: documents, prefix: \(prefix)}\n"
             + "output: {s3Bucket: \(bucket), s3KeyPrefix: \(keyPrefix), cloudWatchLogGroup: \(logGroup)}\n")
            .write(to: w.plan, atomically: true, encoding: .utf8)

        let early = try w.run(["step", "preflight", "--instance", w.source, "--mode", "documents", "--documents-prefix", prefix])
        #expect(early.status == 1)
        #expect(early.stderr.contains("SSM has no version named") && early.stderr.contains("clonectl documents publish"), "\(early.stderr)")

        let beforePublish = IAMReplay.lastSeq(try await Self.get(w.local, "/calls"))
        let first = try Self.documents(w, ["publish", "--plan", w.plan.path, "--output", "json"])
        #expect(first.status == 0, "\(first.stderr)")
        let published = try Self.json(first)
        let docs = published["documents"] as? [[String: Any]] ?? []
        #expect(!docs.isEmpty && published["published"] as? Int == docs.count, "every version new: \(first.stdout)")
        #expect(docs.allSatisfy { ($0["name"] as? String)?.hasPrefix(prefix) == true })
        let second = try Self.documents(w, ["publish", "--plan", w.plan.path, "--output", "json"])
        #expect(second.status == 0, "\(second.stderr)")
        let again = try Self.json(second)
        #expect(again["published"] as? Int == 0, "publish twice is a no-op: \(second.stdout)")
        #expect((again["documents"] as? [[String: Any]] ?? []).allSatisfy { $0["action"] as? String == "unchanged" })
        // Same versions and hashes the second time.
        let pairs = { (d: [[String: Any]]) in d.map { "\($0["name"]!) \($0["documentVersion"]!) \($0["sha256"]!)" } }
        #expect(pairs(docs) == pairs(again["documents"] as? [[String: Any]] ?? []))
        let verify = try Self.documents(w, ["verify", "--plan", w.plan.path, "--output", "json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(try Self.json(verify)["drift"] as? Int == 0)
        let list = try Self.documents(w, ["list", "--plan", w.plan.path, "--output", "json"])
        let rows = try Self.json(list)["documents"] as? [[String: Any]] ?? []
        #expect(rows.count == docs.count && rows.allSatisfy { $0["status"] as? String == "current" })

        // Publishing, listed and verified, is allowed by the publisher policy (its document ARNs renamed to the prefix).
        let publishLog = try await Self.get(w.local, "/calls")
        let publishCalls = IAMReplay.slice(publishLog, (beforePublish + 1)...IAMReplay.lastSeq(publishLog))
        let publisher = try IAMReplay.judge(calls: publishCalls, policy: "publisher-policy.json", documentPrefix: prefix)
        #expect(publisher.denied.isEmpty && publisher.unknown.isEmpty, "publish under publisher-policy.json: \(publisher.denied) \(publisher.unknown)")
        #expect(publisher.apis.contains("ssm:CreateDocument"), "\(publisher.apis.sorted())")
        let asRunner = try IAMReplay.judge(calls: publishCalls, policy: "controller-policy.json", documentPrefix: prefix)
        #expect(Set(asRunner.denied.compactMap { $0["api"] as? String }).contains("ssm:CreateDocument"),
                "the run policy cannot publish")

        // The checked dry run checks the documents and sends its read-only preflight as one of them.
        let beforeCheck = IAMReplay.lastSeq(publishLog)
        let check = try w.run(["run", w.plan.path, "--dry-run", "--check"])
        let checkLines = check.stdout.split(separator: "\n")
        #expect(checkLines.contains { $0.hasPrefix("ok") && $0.contains("documents \(prefix)*") }, "\(check.stdout)\n\(check.stderr)")
        #expect(checkLines.contains { $0.hasPrefix("ok") && $0.contains("guest preflight") }, "\(check.stdout)")
        let onSource = try await w.aws.ssm.listCommands(instanceId: w.source).commands
        #expect(onSource.count == 1 && onSource.first?.documentName == "\(prefix)preflight", "\(onSource.map(\.documentName))")

        let before = try await Self.counts(w.local)
        let run = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.json(run)["status"] as? String == "succeeded")
        let afterRun = try await Self.counts(w.local)
        let sent = afterRun["ssm:SendCommand"] ?? 0
        #expect(sent - (before["ssm:SendCommand"] ?? 0) > 0)
        let described = (afterRun["ssm:DescribeDocument"] ?? 0) - (before["ssm:DescribeDocument"] ?? 0)

        // The checked dry run and the run, as AWS would authorize them, under the run policy in documents mode:
        // without the inline statement, its document ARNs renamed to the prefix.
        let runLog = try await Self.get(w.local, "/calls")
        let runCalls = IAMReplay.slice(runLog, (beforeCheck + 1)...IAMReplay.lastSeq(runLog))
        #expect(IAMReplay.documentsSent(runCalls).allSatisfy { $0.hasPrefix(prefix) }, "\(IAMReplay.documentsSent(runCalls))")
        let runVerdict = try IAMReplay.judge(calls: runCalls, policy: "controller-policy.json",
                                             without: [IAMReplay.inlineStatement], documentPrefix: prefix,
                                             fill: outputFill)
        #expect(runVerdict.denied.isEmpty && runVerdict.unknown.isEmpty, "documents-mode run: \(runVerdict.denied) \(runVerdict.unknown)")
        #expect(runVerdict.apis.isSuperset(of: ["ssm:SendCommand", "ec2:StopInstances", "ec2:CreateImage", "ec2:RunInstances"]),
                "\(runVerdict.apis.sorted())")
        IAMReplay.expectSnapshotsTaggedOnlyByCreateImage(runCalls)
        print("IAM replay (documents mode, RunSafetyEndToEndTests.theWholeRunInDocumentsMode): \(runVerdict.allowed.count) calls allowed")

        // Every guest command of the run went as a clonectl document, pinned by version and hash, and says so.
        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id)
        let commands = try ledger.commands(runId: runId)
        #expect(commands.count >= 8, "the guest steps of a whole run: \(commands.map(\.step))")
        // Each payload version's document version is looked up once in the run, not once per command.
        let versions = Set(commands.map { "\($0.payload)@\($0.version)" })
        #expect(described == versions.count, "DescribeDocument \(described) times for \(versions.count) payload versions")
        let byName = Dictionary(docs.map { ("\($0["name"]!)@\($0["versionName"]!)", $0) }, uniquingKeysWith: { a, _ in a })
        for command in commands {
            let how = try #require(try ledger.commandDocument(nonce: command.nonce), "\(command.step) has its document recorded")
            #expect(how.mode == "documents")
            #expect(how.documentName == prefix + command.payload)
            #expect(how.documentARN == "arn:aws:ssm:\(w.local.region):123456789012:document/\(prefix)\(command.payload)")
            let published = try #require(byName["\(prefix)\(command.payload)@\(command.version)"])
            #expect(how.documentVersion == published["documentVersion"] as? String)
            #expect(how.documentHash == published["sha256"] as? String)
            let listed = try #require(try await w.aws.ssm.listCommands(commandId: command.commandId).commands.first)
            #expect(listed.documentName == prefix + command.payload)
            #expect(Set(listed.parameters?.keys.map { $0 } ?? []) == ["Nonce", "Params"], "only the nonce and the parameters travel")
        }
        // The plan's output: each guest command's whole stdout in S3 at the agent's key layout for a 2.2 document
        // (PREFIX/COMMAND/INSTANCE/awsrunPowerShellScript/STEP/stdout, STEP the document's one step, `clonectl`),
        // its envelope inside; streamed to the log group; the ledger and `show` say where.
        let streams = try Self.logStreams(w, group: logGroup)
        for command in commands {
            #expect(try ledger.commandOutputs(nonce: command.nonce)
                    == CommandOutputs(s3Bucket: bucket, s3KeyPrefix: keyPrefix, logGroup: logGroup), "\(command.step)")
            let recorded = Dictionary(try ledger.invocationOutputs(commandId: command.commandId).map { ($0.instanceId, $0) }) { a, _ in a }
            let shown = try Self.json(try w.run(["show", command.commandId, "--output", "json"]))
            let shownFull = Dictionary((shown["invocations"] as? [[String: Any]] ?? []).map {
                ($0["instance"] as? String ?? "", ($0["fullOutput"] as? [String: Any])?["stdout"] as? String)
            }) { a, _ in a }
            for instance in command.instanceIds {
                let key = "\(keyPrefix)\(command.commandId)/\(instance)/awsrunPowerShellScript/clonectl/stdout"
                let whole = String(decoding: try await session.s3.getObject(bucket: bucket, key: key), as: UTF8.self)
                #expect(whole.contains(command.nonce), "\(command.step) \(instance): s3://\(bucket)/\(key) holds the envelope")
                #expect(recorded[instance]?.stdoutURL == "s3://\(bucket)/\(key)" && recorded[instance]?.completedFromS3 == false,
                        "\(command.step) \(instance): \(String(describing: recorded[instance]))")
                #expect(shownFull[instance] == "s3://\(bucket)/\(key)", "show \(command.commandId): \(shownFull)")
                #expect(streams.contains("\(command.commandId)/\(instance)/clonectl/stdout"), "\(command.step) \(instance) in \(logGroup)")
            }
        }
        let shownText = try w.run(["show", try #require(commands.first?.commandId)])
        #expect(shownText.stdout.contains("full output: s3://\(bucket)/\(keyPrefix)"), "\(shownText.stdout)")

        // `show` says how a command went; doctor checks the plan's documents.
        let show = try w.run(["show", try #require(commands.first?.commandId), "--output", "json"])
        let delivery = try #require(try Self.json(show)["delivery"] as? [String: Any])
        #expect(delivery["mode"] as? String == "documents" && (delivery["arn"] as? String)?.hasSuffix("document/\(prefix)preflight") == true, "\(delivery)")
        let beforeDoctor = IAMReplay.lastSeq(try await Self.get(w.local, "/calls"))
        let doctor = try w.run(["doctor", w.plan.path])
        #expect(doctor.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("documents \(prefix)*") }, "\(doctor.stdout)")
        #expect(doctor.stdout.contains("s3://\(bucket)/\(keyPrefix) exists"), "\(doctor.stdout)")
        // doctor's look at the output bucket (HeadBucket, as s3:ListBucket) is allowed once the operator fills in
        // the policy's <output-bucket> / <output-prefix>.
        let doctorLog = try await Self.get(w.local, "/calls")
        let doctorCalls = IAMReplay.slice(doctorLog, (beforeDoctor + 1)...IAMReplay.lastSeq(doctorLog))
        let doctorVerdict = try IAMReplay.judge(calls: doctorCalls, policy: "controller-policy.json", without: [IAMReplay.inlineStatement],
                                                documentPrefix: prefix, fill: outputFill)
        #expect(doctorVerdict.denied.isEmpty && doctorVerdict.unknown.isEmpty && doctorVerdict.apis.contains("s3:HeadBucket"),
                "doctor: \(doctorVerdict.denied) \(doctorVerdict.unknown) \(doctorVerdict.apis.sorted())")
    }

    /// A released payload changed without a new version is refused by publish; a document version whose content
    /// is not what this clonectl builds is refused by SSM itself (DocumentHash), and verify reports the drift.
    @Test func aChangedPayloadOrDocumentIsRefused() async throws {
        let w = try await Self.world("docsbad")
        let prefix = Self.prefix()
        let ok = try Self.documents(w, ["publish", "--prefix", prefix])
        #expect(ok.status == 0, "\(ok.stderr)")

        // The same time-zone version with other bytes (manifest updated to match, as a careless re-release would).
        let changed = try Self.changedPayloads(w.dir, payload: "time-zone")
        let refused = try Self.documents(w, ["publish", "--prefix", prefix, "--payloads", changed.path, "--output", "json"])
        #expect(refused.status == 1)
        let answer = try Self.json(refused)
        #expect((answer["error"] as? [String: Any])?["code"] as? String == "documents-refused")
        let reasons = answer["refused"] as? [String] ?? []
        #expect(reasons.count == 1 && reasons[0].contains("\(prefix)time-zone") && reasons[0].contains("new payload version"), "\(reasons)")

        // Published from the changed bytes under another prefix: that document's version does not hold what the
        // released payload builds. SSM refuses the command on its hash; nothing runs.
        let other = Self.prefix()
        let bad = try Self.documents(w, ["publish", "--prefix", other, "--payloads", changed.path])
        #expect(bad.status == 0, "\(bad.stderr)")
        let before = try await Self.get(w.local, "/guests/\(w.source)")
        let step = try w.run(["step", "time-zone", "--instance", w.source, "--param", "TimeZoneId=Tokyo Standard Time",
                              "--mode", "documents", "--documents-prefix", other, "--output", "json"])
        #expect(step.status == 1)
        let why = (try Self.json(step)["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(why.contains("InvalidDocument") && why.contains("documents verify"), "\(step.stdout)")
        let after = try await Self.get(w.local, "/guests/\(w.source)")
        #expect(after["timeZoneId"] as? String == before["timeZoneId"] as? String, "nothing ran")
        let verify = try Self.documents(w, ["verify", "--prefix", other, "--output", "json"])
        #expect(verify.status == 1)
        let drift = try Self.json(verify)
        #expect((drift["error"] as? [String: Any])?["code"] as? String == "documents-drift")
        let changedRows = (drift["documents"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "changed" }
        #expect(changedRows.count == 1 && changedRows.first?["name"] as? String == "\(other)time-zone", "\(drift)")
        // With the released payloads under the first prefix, the same step runs.
        let good = try w.run(["step", "time-zone", "--instance", w.source, "--param", "TimeZoneId=Tokyo Standard Time",
                              "--mode", "documents", "--documents-prefix", prefix])
        #expect(good.status == 0, "\(good.stderr)")
    }

    /// Every manifest version is in SSM once under its VersionName with the content this clonectl builds (list: all
    /// current, none unknown), and each document holds exactly as many versions as the manifest lists (no second
    /// version made by a call sent twice).
    static func expectOneVersionEach(_ w: World, prefix: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let list = try Self.documents(w, ["list", "--prefix", prefix, "--output", "json"])
        let rows = try Self.json(list)["documents"] as? [[String: Any]] ?? []
        #expect(!rows.isEmpty && rows.allSatisfy { $0["status"] as? String == "current" },
                "\(rows.filter { $0["status"] as? String != "current" })", sourceLocation: sourceLocation)
        for (name, versions) in Dictionary(grouping: rows, by: { $0["name"] as? String ?? "" }) {
            let held = try await w.aws.ssm.describeDocument(name: name)
            #expect(held?.latestVersion == String(versions.count), "\(name): \(held?.latestVersion ?? "-") versions in SSM, \(versions.count) in the manifest",
                    sourceLocation: sourceLocation)
        }
    }

    /// CreateDocument and UpdateDocument each lose their answer once after moto carried them out: publish finds
    /// each version by its VersionName and adopts it (reused), exit 0, no second version; publishing again is a no-op.
    @Test func publishAdoptsTheVersionsWhoseAnswersWereLost() async throws {
        let w = try await Self.world("docslost")
        let prefix = Self.prefix()
        _ = try await Self.post(w.local, "/faults", ["rules": [
            ["fault": "lostAnswer", "api": "ssm:CreateDocument", "count": 1],
            ["fault": "lostAnswer", "api": "ssm:UpdateDocument", "count": 1]]])
        let before = IAMReplay.lastSeq(try await Self.get(w.local, "/calls"))
        let r = try Self.documents(w, ["publish", "--prefix", prefix, "--output", "json"])
        _ = try await Self.post(w.local, "/faults", ["rules": [] as [Any]])
        #expect(r.status == 0, "\(r.stderr)")
        let log = try await Self.get(w.local, "/calls")
        let lost = (IAMReplay.slice(log, (before + 1)...IAMReplay.lastSeq(log))["calls"] as? [[String: Any]] ?? [])
            .filter { $0["fault"] as? String == "lostAnswer" }
        #expect(Set(lost.compactMap { $0["api"] as? String }) == ["ssm:CreateDocument", "ssm:UpdateDocument"], "\(lost)")
        let docs = try Self.json(r)["documents"] as? [[String: Any]] ?? []
        let reused = docs.filter { $0["action"] as? String == "reused" }
        #expect(reused.count == 2, "\(docs.map { "\($0["name"]!) \($0["versionName"]!) \($0["action"]!)" })")
        #expect(reused.contains { $0["documentVersion"] as? String == "1" } && reused.contains { $0["documentVersion"] as? String != "1" },
                "one first version (CreateDocument), one later version (UpdateDocument): \(reused)")
        #expect(r.stderr.contains("answer was lost, but SSM holds the version: adopted"), "\(r.stderr)")
        try await Self.expectOneVersionEach(w, prefix: prefix)
        let again = try Self.documents(w, ["publish", "--prefix", prefix, "--output", "json"])
        #expect(try again.status == 0 && Self.json(again)["published"] as? Int == 0, "\(again.stdout)\(again.stderr)")
    }

    /// A publish killed (kill -9) while its UpdateDocument is held in flight, run again while the call is still
    /// held: the re-run exits 0, the held call lands afterwards and SSM refuses it as a duplicate; one version each.
    @Test func aPublishKilledMidwayAndRunAgainConverges() async throws {
        let w = try await Self.world("docskill")
        let prefix = Self.prefix()
        _ = try await Self.post(w.local, "/faults", ["rules": [["fault": "slow", "api": "ssm:UpdateDocument", "seconds": 8, "count": 1]]])
        let process = Process()
        process.executableURL = CLIRun.binary
        process.arguments = ["documents", "publish", "--prefix", prefix]
        process.environment = w.env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let inFlight = { () async throws -> Int in
            (try await Self.get(w.local, "/calls?log=0")["inFlight"] as? [String: Int] ?? [:])["ssm:UpdateDocument", default: 0]
        }
        let held = try await ExactlyOnceEndToEndTests.eventually(120) { try await inFlight() > 0 || !ExactlyOnceEndToEndTests.alive(pid) }
        try #require(held && ExactlyOnceEndToEndTests.alive(pid), "the publish reached a held UpdateDocument")
        kill(pid, SIGKILL)
        #expect(try await ExactlyOnceEndToEndTests.eventually(30) { !ExactlyOnceEndToEndTests.alive(pid) })
        process.waitUntilExit()
        #expect(try await inFlight() > 0, "the re-run starts while the killed publish's UpdateDocument is held")
        let again = try Self.documents(w, ["publish", "--prefix", prefix, "--output", "json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await ExactlyOnceEndToEndTests.eventually(30) { try await inFlight() == 0 }, "the held call landed")
        let landed = (try await Self.get(w.local, "/calls?api=ssm:UpdateDocument")["calls"] as? [[String: Any]] ?? [])
            .filter { $0["fault"] as? String == "slow" }
        // The held call was the first UpdateDocument: the first later version of a payload. Either it landed
        // after the re-run added that version (SSM refused it as a duplicate), or before the re-run reached it (the
        // re-run found it there); never a second version.
        let rerun = try Self.json(again)["documents"] as? [[String: Any]] ?? []
        let heldVersion = try #require(rerun.first { $0["documentVersion"] as? String != "1" })
        #expect(landed.count == 1, "\(landed)")
        if landed.first?["status"] as? Int == 400 {
            #expect(heldVersion["action"] as? String == "added", "\(heldVersion)")
        } else {
            #expect(landed.first?["status"] as? Int == 200 && ["unchanged", "reused"].contains(heldVersion["action"] as? String ?? ""),
                    "\(landed) \(heldVersion)")
        }
        try await Self.expectOneVersionEach(w, prefix: prefix)
        let third = try Self.documents(w, ["publish", "--prefix", prefix, "--output", "json"])
        #expect(try third.status == 0 && Self.json(third)["published"] as? Int == 0, "\(third.stdout)\(third.stderr)")
        _ = try await Self.post(w.local, "/faults", ["rules": [] as [Any]])
    }

    /// The stream names of a CloudWatch Logs group (moto, through the front), read with boto3: clonectl has no
    /// CloudWatch Logs client of its own.
    static func logStreams(_ w: World, group: String) throws -> Set<String> {
        let script = """
            import boto3, json, os, sys
            logs = boto3.client("logs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
            names, token = [], None
            while True:
                page = logs.describe_log_streams(logGroupName=sys.argv[1], **({"nextToken": token} if token else {}))
                names += [s["logStreamName"] for s in page["logStreams"]]
                token = page.get("nextToken")
                if not token or not page["logStreams"]:
                    break
            print(json.dumps(names))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.python)
        process.arguments = ["-c", script, group]
        process.environment = w.env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "describe_log_streams \(group): \(problem)")
        return Set(try JSONSerialization.jsonObject(with: data) as? [String] ?? [])
    }

    /// A copy of ps-scripts whose newest `payload` version has one more comment line, its manifest hash updated.
    static func changedPayloads(_ dir: URL, payload: String) throws -> URL {
        let source = TestEnvironment.repoRoot.appendingPathComponent("ps-scripts")
        let copy = dir.appendingPathComponent("ps-scripts-changed")
        try FileManager.default.copyItem(at: source, to: copy)
        let manifestURL = copy.appendingPathComponent("manifest.json")
        var manifest = try String(contentsOf: manifestURL, encoding: .utf8)
        let folder = copy.appendingPathComponent("payloads/\(payload)")
        // The newest released version's file (versions are named MAJOR.MINOR.PATCH.ps1).
        let newest = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".ps1") }
            .max { $0.split(separator: ".").prefix(3).compactMap { Int($0) }.lexicographicallyPrecedes($1.split(separator: ".").prefix(3).compactMap { Int($0) }) })
        let url = folder.appendingPathComponent(newest)
        let old = try Data(contentsOf: url)
        var new = old
        new.append(contentsOf: Array("\r\n# changed without a new version\r\n".utf8))
        try new.write(to: url)
        let oldSha = Hex.encode(Crypto.sha256(Array(old))), newSha = Hex.encode(Crypto.sha256(Array(new)))
        #expect(manifest.contains(oldSha))
        manifest = manifest.replacingOccurrences(of: oldSha, with: newSha)
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        return copy
    }
}

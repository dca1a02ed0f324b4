import Testing
import Foundation
import Synchronization
import AWSCore
import AWSHTTP
import ClonectlLedger
import TestSupport

/// Issue 10, "safe to point at a production server", through the real binary against the local AWS: a finished plan
/// is not started over (no mutating call), a cleaned run is not resumed, the plan's region wins, a second ledger is
/// refused on a held source, the live source keeps its firewall and users, parameters are checked before sending,
/// cleanup deletes only what AWS reports as the run's.
///
/// One local AWS for the whole suite (CI time): each case launches its own source instance from the bootstrap's
/// Windows image and gives it the bootstrap source's guest, so cases never share a source. Serialized: the cases
/// read the simulator's global call counters.
@Suite(.serialized) struct RunSafetyEndToEndTests {
    /// The suite's local AWS, started on first use with the fast timings of EndToEndTests.
    static let shared: Result<LocalAWS, Error> = Result { try LocalAWS.startPrivate(config: EndToEndTests.fast) }
    /// The bootstrap source's guest as it was before any case ran (every new source starts as this copy).
    static let pristineGuest = Mutex<Data?>(nil)

    struct World {
        let local: LocalAWS
        let dir: URL
        let plan: URL
        let source: String
        let ledger: String
        let env: [String: String]
        let aws: MotoClients

        func run(_ args: [String], ledger: String? = nil, env extra: [String: String] = [:], stdin: String? = nil) throws -> CLIRun {
            var environment = env
            for (k, v) in extra { environment[k] = v }
            return try CLIRun.run(args + ["--ledger", ledger ?? self.ledger], environment: environment, stdin: stdin)
        }

        func writePlan(name: String, region: String? = nil) throws {
            let sg = local.securityGroupId ?? "", profile = local.instanceProfile ?? ""
            let lines = [
                "version: 1",
                "name: \(name)",
                region.map { "region: \($0)" } ?? "",
                "source: {instanceId: \(source)}",
                "prep:",
                "  workUser: {name: clonework, passwordParameter: \(local.secureParameter)}",
                "  firewall: {profiles: [Domain, Private, Public]}",
                "  jobs: {tasks: ['\\App\\Nightly'], services: [AppSvc]}",
                "workCopy: {subnetId: \(local.subnetId), securityGroupIds: [\(sg)], instanceProfile: \(profile), instanceType: m5.large}",
                "sysprep: {shutdownTimeoutMinutes: 5}",
                "masterImage: {name: \"{plan}-master-{date}-{runId}\", tags: {Owner: e2e}}",
                "clones:",
                "  - {name: \(name)-a, subnetId: \(local.subnetId), hostName: \(name.uppercased().prefix(10))A, timeZone: Tokyo Standard Time}",
            ]
            try (lines.joined(separator: "\n") + "\n").write(to: plan, atomically: true, encoding: .utf8)
        }
    }

    /// A world with a fresh source instance of its own, Online in SSM, and a plan named `name` for it.
    /// `optedIn`: the source carries the operator's opt-in tag clonectl:source=allowed (SourceClaim), as a source
    /// must for the controller policy to let clonectl act on it.
    static func world(_ name: String, region: Bool = false, optedIn: Bool = true) async throws -> World {
        let local = try shared.get()
        let aws = try MotoClients(local: local)
        let pristine = try await pristine(local)
        var input = RunInstancesInput(imageId: local.sourceImageId, instanceType: "m5.large")
        input.subnetId = local.subnetId
        input.tagSpecifications = [EC2TagSpecification(resourceType: "instance", tags: [EC2Tag("Name", "source-\(name)")]
            + (optedIn ? [EC2Tag("clonectl:source", "allowed")] : []))]
        let source = try #require(try await aws.ec2.runInstances(input).instances.first?.instanceId)
        _ = try await post(local, "/guests/\(source)", pristine)
        // Wait until its agent is Online, as a live production server's is.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let info = try await aws.ssm.describeAllInstanceInformation(
                filters: [InstanceInformationFilter(key: "InstanceIds", values: [source])])
            if info.first?.pingStatus == "Online" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let env = ["HOME": dir.path, "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": local.accessKeyId,
                   "AWS_SECRET_ACCESS_KEY": local.secretAccessKey, "AWS_REGION": local.region,
                   "AWS_ENDPOINT_URL": local.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                   "CLONECTL_POLL_SECONDS": "0.1",
                   "CLONECTL_PAYLOADS": TestEnvironment.repoRoot.appendingPathComponent("ps-scripts").path]
        let w = World(local: local, dir: dir, plan: dir.appendingPathComponent("plan.yaml"), source: source,
                      ledger: dir.appendingPathComponent("ledger.sqlite").path, env: env, aws: aws)
        try w.writePlan(name: name, region: region ? local.region : nil)
        return w
    }

    static func pristine(_ local: LocalAWS) async throws -> [String: Any] {
        if let data = pristineGuest.withLock({ $0 }) {
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }
        var g = try await get(local, "/guests/\(local.sourceInstanceId)")
        for key in ["registered", "lastPing", "offlineUntil", "agentGone", "sysprepStarting"] { g.removeValue(forKey: key) }
        let data = try JSONSerialization.data(withJSONObject: g)
        pristineGuest.withLock { $0 = data }
        return g
    }

    static func get(_ local: LocalAWS, _ path: String) async throws -> [String: Any] {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let r = try await transport.execute(HTTPRequest(method: "GET", url: local.controlEndpoint! + path), options: HTTPRequestOptions())
        return try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] ?? [:]
    }

    @discardableResult
    static func post(_ local: LocalAWS, _ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let r = try await transport.execute(HTTPRequest(method: "POST", url: local.controlEndpoint! + path,
                                                        headers: [HTTPHeader("Content-Type", "application/json")],
                                                        body: Array(try JSONSerialization.data(withJSONObject: body))),
                                            options: HTTPRequestOptions())
        return (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    /// The simulator's exact per-API counters (every call answered since the last reset).
    static func counts(_ local: LocalAWS) async throws -> [String: Int] {
        (try await get(local, "/calls?log=0")["counts"] as? [String: Int]) ?? [:]
    }

    static let mutating = ["ec2:StopInstances", "ec2:StartInstances", "ec2:CreateImage", "ec2:RunInstances", "ec2:CreateTags",
                           "ec2:TerminateInstances", "ec2:DeregisterImage", "ec2:DeleteSnapshot", "ssm:SendCommand"]

    static func delta(_ before: [String: Int], _ after: [String: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: mutating.map { ($0, (after[$0] ?? 0) - (before[$0] ?? 0)) }).filter { $0.value != 0 }
    }

    static func tags(_ w: World, _ id: String) async throws -> [String: String] {
        let i = try #require(try await w.aws.ec2.describeAllInstances(instanceIds: [id]).first)
        return Dictionary(i.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - the cases

    /// Default prep leaves the live source's firewall and users alone, the clones still restore exactly, and a plan
    /// whose run succeeded is done: running it again makes no mutating call at all.
    @Test func aFinishedPlanIsDoneAndTheSourceKeptItsFirewallAndUsers() async throws {
        let w = try await Self.world("done")
        let first = try w.run(["run", w.plan.path, "--until", "image-source"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        // The source while its image was taken: firewall on, no work user; only its jobs were stopped.
        let during = try await Self.get(w.local, "/guests/\(w.source)")
        #expect(during["firewall"] as? [String: Bool] == ["Domain": true, "Private": true, "Public": true], "\(during["firewall"] ?? "-")")
        #expect((during["users"] as? [String: Any])?["clonework"] == nil, "no work user on the live source: \(during["users"] ?? "-")")
        let journal = (during["journal"] as? [String: Any])?["entries"] as? [String: Any] ?? [:]
        #expect(Set(journal.keys) == ["jobs"], "the source's journal holds only the jobs it stopped: \(journal.keys)")
        #expect(try await Self.tags(w, w.source)["clonectl:state"]?.hasPrefix("held by") == true)

        let rest = try w.run(["run", w.plan.path, "--output", "json"])
        #expect(rest.status == 0, "stderr: \(rest.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: Any], "one JSON document: \(rest.stdout)")
        #expect(summary["status"] as? String == "succeeded")
        let clone = try #require((summary["clones"] as? [String: String])?["done-a"])
        // The work copy had the aids, so the clone restores exactly what the source had.
        let g = try await Self.get(w.local, "/guests/\(clone)")
        #expect(g["firewall"] as? [String: Bool] == ["Domain": true, "Private": true, "Public": true], "\(g["firewall"] ?? "-")")
        let user = (g["users"] as? [String: [String: Any]])?["clonework"]
        #expect(user == nil || user?["enabled"] as? Bool == false, "the work user is not usable on a clone: \(user ?? [:])")
        let services = g["services"] as? [[String: Any]] ?? []
        #expect(services.first { $0["name"] as? String == "AppSvc" }?["startType"] as? String == "Automatic")
        let tasks = g["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.first { $0["name"] as? String == "Nightly" }?["state"] as? String == "Ready")
        let after = try await Self.get(w.local, "/guests/\(w.source)")
        #expect(after["firewall"] as? [String: Bool] == ["Domain": true, "Private": true, "Public": true])
        #expect((after["users"] as? [String: Any])?["clonework"] == nil)
        #expect(try await Self.tags(w, w.source)["clonectl:state"] == "done", "the source's claim is released")

        // Again: done, exit 0, and not one mutating AWS call.
        let before = try await Self.counts(w.local)
        let again = try w.run(["run", w.plan.path])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("already done in run-") && again.stdout.contains("`--new` starts another round"), "\(again.stdout)")
        #expect(again.stdout.contains("finished at"))
        let made = Self.delta(before, try await Self.counts(w.local))
        #expect(made.isEmpty, "mutating calls: \(made)")
        let ledger = try Ledger(path: w.ledger)
        #expect(try ledger.runs().count == 1)
    }

    /// A run undone by cleanup is recorded as cleaned, its steps undone; neither run nor --rerun resumes it.
    /// Cleanup lists first, refuses without --yes off a terminal, and --dry-run deletes nothing.
    /// A source without the operator's opt-in tag is refused before anything is recorded or changed, saying which
    /// tag to set; `doctor` says the same.
    @Test func aSourceWithoutTheOptInTagIsRefusedBeforeAnything() async throws {
        let w = try await Self.world("optin", optedIn: false)
        let r = try w.run(["run", w.plan.path])
        #expect(r.status == 1, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        #expect(r.stderr.contains("not opted in") && r.stderr.contains("clonectl:source=allowed")
                && r.stderr.contains("aws ec2 create-tags --resources \(w.source)"), "\(r.stderr)")
        #expect(try Ledger(path: w.ledger).runs().isEmpty, "no run recorded")
        let source = try #require(try await w.aws.ec2.describeAllInstances(instanceIds: [w.source]).first)
        #expect(source.tag("clonectl:run") == nil && source.stateName == .running, "the source is untouched")
        let doctor = try w.run(["doctor", w.plan.path])
        #expect(doctor.stdout.split(separator: "\n").contains { $0.hasPrefix("FAIL") && $0.contains("source opt-in tag") },
                "\(doctor.stdout)")
        // Opted in by the operator, the same plan runs as far as the first step.
        try await w.aws.ec2.createTags(resourceIds: [w.source], tags: [EC2Tag("clonectl:source", "allowed")])
        let ok = try w.run(["run", w.plan.path, "--until", "preflight"])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
    }

    @Test func aCleanedRunIsNotResumed() async throws {
        let w = try await Self.world("cleaned")
        let r = try w.run(["run", w.plan.path, "--until", "launch-work-copy"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let run = try #require(try ledger.runs().first)
        let state = try #require(try ledger.runState(run.id))
        let workCopy = try #require(state.firstMatch(of: /"workCopyInstanceId":"(i-[0-9a-f]+)"/)?.1).description

        let before = try await Self.counts(w.local)
        let dry = try w.run(["cleanup", run.id, "--all", "--dry-run"])
        #expect(dry.status == 0, "stderr: \(dry.stderr)")
        #expect(dry.stdout.contains("terminate instance \(workCopy) (work copy)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("deregister image ami-"), "\(dry.stdout)")
        let unconfirmed = try w.run(["cleanup", run.id, "--all"])
        #expect(unconfirmed.status == 64)
        #expect(unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        #expect(unconfirmed.stdout.contains("terminate instance \(workCopy)"), "it lists before it refuses: \(unconfirmed.stdout)")
        #expect(Self.delta(before, try await Self.counts(w.local)).isEmpty, "listing deletes nothing")

        let done = try w.run(["cleanup", run.id, "--all", "--yes"])
        #expect(done.status == 0, "stdout: \(done.stdout)\nstderr: \(done.stderr)")
        #expect(try ledger.run(id: run.id).status == "cleaned")
        let steps = try ledger.steps(runId: run.id)
        #expect(!steps.contains { $0.status == "succeeded" }, "\(steps.map { "\($0.name)=\($0.status)" })")
        #expect(steps.contains { $0.name == "image-source" && $0.status == "undone" })
        let status = try w.run(["status", run.id])
        #expect(status.stdout.contains("cleaned") && status.stdout.contains("undone"), "\(status.stdout)")
        #expect(try await Self.tags(w, w.source)["clonectl:state"] == "cleaned")

        for args in [["run", w.plan.path], ["run", w.plan.path, "--rerun", "verify"]] {
            let refused = try w.run(args)
            #expect(refused.status == 1, "\(args): \(refused.stderr)")
            #expect(refused.stderr.contains("cleaned up") && refused.stderr.contains("--new"), "\(refused.stderr)")
        }
        let fresh = try w.run(["run", w.plan.path, "--new", "--until", "preflight"])
        #expect(fresh.status == 0, "stderr: \(fresh.stderr)")
        #expect(try ledger.runs().count == 2)
        // report --plan: one document for both rounds, the cleaned one marked, each linked to its detail.
        let planReport = try w.run(["report", "--plan", run.planName, "--format", "json"])
        #expect(planReport.status == 0, "stderr: \(planReport.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(planReport.stdout.utf8)) as? [String: Any])
        let rounds = try #require(doc["rounds"] as? [[String: Any]])
        #expect(doc["kind"] as? String == "plan" && rounds.count == 2 && (doc["runs"] as? [Any])?.count == 2)
        #expect(rounds.map { $0["runId"] as? String ?? "" } == (try ledger.runs(planName: run.planName)).map(\.id))
        #expect(rounds.map { $0["cleaned"] as? Bool ?? false } == [true, false], "\(rounds)")
        #expect((rounds[0]["images"] as? [String])?.contains { $0.hasPrefix("ami-") } == true, "\(rounds[0])")
        let lineageKinds = ((doc["lineage"] as? [String: Any])?["nodes"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
        #expect(lineageKinds.first == "source-instance" && lineageKinds.filter { $0 == "round" }.count == 2, "\(lineageKinds)")
        let planMd = try w.run(["report", "--plan", run.planName, "--format", "md"])
        let anchor = try #require(rounds[0]["anchor"] as? String)
        #expect(planMd.stdout.contains("(#\(anchor))") && planMd.stdout.contains("<a id=\"\(anchor)\"></a>"), "\(planMd.stdout.prefix(1500))")
    }

    /// `--on-error cleanup`: the run is undone, recorded as cleaned (not resumed), and the source is put back as it
    /// was: running again, its jobs restored from the journal (prep's undo), its claim released.
    @Test func onErrorCleanupPutsTheSourceBackAndRecordsTheRunCleaned() async throws {
        let w = try await Self.world("onerror")
        try await Self.post(w.local, "/faults", ["rules": [["fault": "error5xx", "api": "ec2:CreateImage", "share": 1, "count": 1000]]])
        let r = try w.run(["run", w.plan.path, "--on-error", "cleanup"])
        try await Self.post(w.local, "/faults", ["rules": [[String: Any]]()])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("undone") && r.stderr.contains("--new"), "\(r.stderr)")
        #expect(!r.stderr.contains("again to resume"), "\(r.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let run = try #require(try ledger.runs().first)
        #expect(run.status == "cleaned")
        #expect(try ledger.steps(runId: run.id).allSatisfy { $0.status == "undone" })
        let source = try #require(try await w.aws.ec2.describeAllInstances(instanceIds: [w.source]).first)
        #expect(source.state == "running" || source.state == "pending", "started again: \(source.state)")
        let g = try await Self.get(w.local, "/guests/\(w.source)")
        let services = g["services"] as? [[String: Any]] ?? []
        #expect(services.first { $0["name"] as? String == "AppSvc" }?["startType"] as? String == "Automatic", "\(services)")
        let tasks = g["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.first { $0["name"] as? String == "Nightly" }?["state"] as? String == "Ready", "\(tasks)")
        #expect(try await Self.tags(w, w.source)["clonectl:state"] == "cleaned")
        let again = try w.run(["run", w.plan.path])
        #expect(again.status == 1 && again.stderr.contains("--new"), "\(again.stderr)")
    }

    /// On a terminal, cleanup lists and asks: "n" deletes nothing, "y" deletes. Driven through a pseudo-terminal
    /// (util-linux `script`), as an operator would answer.
    @Test func cleanupAsksOnATerminal() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let w = try await Self.world("asked")
        let r = try w.run(["run", w.plan.path, "--until", "launch-work-copy"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let run = try #require(try ledger.runs().first)
        func onTerminal(_ answer: String) throws -> CLIRun {
            let command = ([CLIRun.binary.path, "cleanup", run.id, "--all", "--ledger", w.ledger]).map { "'\($0)'" }.joined(separator: " ")
            return try CLIRun.run(["-qec", command, "/dev/null"], environment: w.env, stdin: answer + "\n", executable: "/usr/bin/script")
        }
        let no = try onTerminal("n")
        #expect(no.stdout.contains("Delete these") && no.stdout.contains("nothing deleted"), "\(no.stdout)")
        #expect(try ledger.run(id: run.id).status != "cleaned")
        #expect(try ledger.resources(runId: run.id).contains { $0.kind == "instance" }, "the work copy is still there")
        let yes = try onTerminal("y")
        #expect(yes.stdout.contains("nothing of this run is left") || yes.stdout.contains("still has"), "\(yes.stdout)")
        #expect(try ledger.run(id: run.id).status == "cleaned")
    }

    /// A ledger edited to name the source as the work copy and a clone: cleanup looks at the tags AWS reports and
    /// leaves the source alone.
    @Test func cleanupNeverDeletesWhatOnlyTheLedgerNames() async throws {
        let w = try await Self.world("edited")
        let r = try w.run(["run", w.plan.path, "--until", "prep"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let run = try #require(try ledger.runs().first)
        try ledger.saveRunState(run.id, json: #"{"clones":{"edited-a":"\#(w.source)"},"masterSnapshotIds":[],"sourceInstanceId":"\#(w.source)","sourceSnapshotIds":[],"sourceStoppedByUs":false,"workCopyInstanceId":"\#(w.source)"}"#)
        let listed = try w.run(["cleanup", run.id, "--all", "--dry-run"])
        #expect(listed.stdout.contains("skip instance \(w.source)"), "\(listed.stdout)")
        #expect(!listed.stdout.contains("terminate instance \(w.source)"), "\(listed.stdout)")
        let cleaned = try w.run(["cleanup", run.id, "--all", "--yes"])
        #expect(cleaned.status == 1, "a refusal is not a clean cleanup: \(cleaned.stdout) \(cleaned.stderr)")
        let source = try #require(try await w.aws.ec2.describeAllInstances(instanceIds: [w.source]).first)
        #expect(source.state == "running", "the source was not touched: \(source.state)")
        #expect(try ledger.run(id: run.id).status != "cleaned")
    }

    /// The plan's region beats AWS_REGION (said on stderr); a --region that disagrees is refused before any call.
    @Test func thePlanRegionWins() async throws {
        let w = try await Self.world("region", region: true)
        let other = w.local.region == "eu-west-1" ? "us-west-2" : "eu-west-1"
        let r = try w.run(["run", w.plan.path, "--until", "preflight"], env: ["AWS_REGION": other])
        #expect(r.status == 0, "the source is found in the plan's region, not AWS_REGION's: \(r.stderr)")
        #expect(r.stderr.contains("using the plan's region \(w.local.region)") && r.stderr.contains("AWS_REGION says \(other)"), "\(r.stderr)")

        let before = try await Self.get(w.local, "/calls?log=0")["total"] as? Int
        let refused = try w.run(["run", w.plan.path, "--new", "--region", other])
        #expect(refused.status == 64, "stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("--region \(other)") && refused.stderr.contains("plan's region \(w.local.region)"), "\(refused.stderr)")
        #expect(try await Self.get(w.local, "/calls?log=0")["total"] as? Int == before, "refused before any call")
    }

    /// A second controller with another ledger is refused on a source an unfinished run holds; --break-lock overrides.
    @Test func aSecondLedgerIsRefusedOnAHeldSource() async throws {
        let w = try await Self.world("held")
        let first = try w.run(["run", w.plan.path, "--until", "preflight"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let runId = try #require(try Ledger(path: w.ledger).runs().first?.id)
        let other = w.dir.appendingPathComponent("other.sqlite").path
        let before = try await Self.counts(w.local)
        let second = try w.run(["run", w.plan.path], ledger: other)
        #expect(second.status == 75, "stderr: \(second.stderr)")
        #expect(second.stderr.contains(runId) && second.stderr.contains("held by \(ProcessInfo.processInfo.hostName)"), "\(second.stderr)")
        #expect(second.stderr.contains("--break-lock"), "\(second.stderr)")
        #expect(Self.delta(before, try await Self.counts(w.local)).isEmpty, "refused before changing anything")
        #expect(try Ledger(path: other).runs().isEmpty, "the refused controller recorded no run")

        let forced = try w.run(["run", w.plan.path, "--until", "preflight", "--break-lock"], ledger: other)
        #expect(forced.status == 0, "stderr: \(forced.stderr)")
        let holder = try await Self.tags(w, w.source)["clonectl:run"]
        #expect(holder != nil && holder != runId, "the forcing run holds the source now")
    }

    /// `run --dry-run --check`: the dry run with placeholders expanded, then read-only checks; nothing is changed.
    @Test func aCheckedDryRunChangesNothing() async throws {
        let w = try await Self.world("checked")
        let before = try await Self.counts(w.local)
        let imagesBefore = try await w.aws.ec2.describeImages(owners: ["self"]).count
        let instancesBefore = try await w.aws.ec2.describeAllInstances().count
        let r = try w.run(["run", w.plan.path, "--dry-run", "--check"])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        #expect(r.stdout.contains("checked-master-\(today)-"), "{plan} and {date} expanded: \(r.stdout)")
        #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("source \(w.source)") && $0.contains("SSM Online") })
        #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("guest preflight") })
        #expect(r.stdout.contains("permission ec2:CreateImage"))
        let reads = r.stdout.split(separator: "\n").filter { $0.contains("permission ec2:Describe") }
        #expect(reads.count == 4 && reads.allSatisfy { $0.hasPrefix("ok") }, "the read calls are asked by DryRun too: \(reads)")
        #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("subnets") && $0.contains(w.local.subnetId) })
        // Permissions are asked with EC2's DryRun (a call, but no change); the only command sent is the read-only preflight.
        let after = try await Self.counts(w.local)
        #expect((after["ec2:TerminateInstances"] ?? 0) == (before["ec2:TerminateInstances"] ?? 0))
        #expect((after["ssm:SendCommand"] ?? 0) - (before["ssm:SendCommand"] ?? 0) == 1, "one preflight command")
        #expect(imagesBefore == (try await w.aws.ec2.describeImages(owners: ["self"]).count), "no image was made")
        #expect(instancesBefore == (try await w.aws.ec2.describeAllInstances().count), "no instance was launched")
        #expect(try await w.aws.ec2.describeAllInstances(instanceIds: [w.source]).first?.state == "running")
        #expect(try await Self.tags(w, w.source)["clonectl:run"] == nil, "the source was not claimed")
        #expect(try Ledger(path: w.ledger).runs().isEmpty)

        // A clone's fixed address that a network interface holds (here the source's own) fails the check, naming
        // the holder; a free one passes.
        let held = try #require(try await w.aws.ec2.describeAllInstances(instanceIds: [w.source]).first?.privateIpAddress)
        let cloneLine = "  - {name: checked-a, subnetId: \(w.local.subnetId), "
        let planText = try String(contentsOf: w.plan, encoding: .utf8)
        try planText.replacingOccurrences(of: cloneLine, with: cloneLine + "privateIp: \(held), ")
            .write(to: w.plan, atomically: true, encoding: .utf8)
        let taken = try w.run(["run", w.plan.path, "--dry-run", "--check"])
        #expect(taken.status == 1)
        #expect(taken.stdout.contains("FAIL  clone addresses") && taken.stdout.contains("\(held) (clone checked-a) is held by eni-")
                && taken.stdout.contains("instance \(w.source)"), "\(taken.stdout)")
        let free = held.split(separator: ".").dropLast().joined(separator: ".") + ".250"
        try planText.replacingOccurrences(of: cloneLine, with: cloneLine + "privateIp: \(free), ")
            .write(to: w.plan, atomically: true, encoding: .utf8)
        let open = try w.run(["run", w.plan.path, "--dry-run", "--check"])
        #expect(open.status == 0, "\(open.stdout)")
        #expect(open.stdout.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains("clone addresses") && $0.contains("1 fixed address free") },
                "\(open.stdout)")

        // A wrong id: named, with what to check.
        try String(contentsOf: w.plan, encoding: .utf8).replacingOccurrences(of: w.source, with: "i-0123456789abcdef0")
            .write(to: w.plan, atomically: true, encoding: .utf8)
        let wrong = try w.run(["run", w.plan.path, "--dry-run", "--check"])
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("FAIL  source i-0123456789abcdef0") && wrong.stdout.contains("region"), "\(wrong.stdout)")
        try String(contentsOf: w.plan, encoding: .utf8).replacingOccurrences(of: "workCopy: {subnetId: \(w.local.subnetId)", with: "workCopy: {subnetId: subnet-0aaaaaaaaaaaaaaaa")
            .write(to: w.plan, atomically: true, encoding: .utf8)
        let subnet = try w.run(["run", w.plan.path, "--dry-run", "--check"])
        #expect(subnet.stdout.contains("FAIL  subnets") && subnet.stdout.contains("subnet-0aaaaaaaaaaaaaaaa"), "\(subnet.stdout)")
    }

    /// `step` checks parameters against the payload's param() block and sends nothing when they are wrong.
    @Test func stepParametersAreCheckedBeforeSending() async throws {
        let w = try await Self.world("params")
        let before = try await Self.counts(w.local)
        let typo = try w.run(["step", "hostname", "--instance", w.source, "--param", "NewNam=APP09"])
        #expect(typo.status == 64, "stderr: \(typo.stderr)")
        #expect(typo.stderr.contains("no parameter 'NewNam'") && typo.stderr.contains("did you mean NewName?"), "\(typo.stderr)")
        let long = try w.run(["step", "hostname", "--instance", w.source, "--param", "NewName=ABCDEFGHIJKLMNOPQRSTUVWXYZA"])
        #expect(long.status == 64)
        #expect(long.stderr.contains("has 27 characters; it takes 1 to 15"), "\(long.stderr)")
        let missing = try w.run(["step", "time-zone", "--instance", w.source])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("needs TimeZoneId"), "\(missing.stderr)")
        #expect((try await Self.counts(w.local)["ssm:SendCommand"] ?? 0) == (before["ssm:SendCommand"] ?? 0), "nothing was sent")
        // A well-formed id that Run Command does not know: SSM's InvalidInstanceId, with what to check.
        let unknown = try w.run(["step", "verify", "--instance", "i-0123456789abcdef0"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("InvalidInstanceId") && unknown.stderr.contains("SSM agent is Online")
                && unknown.stderr.contains("region \(w.local.region)"), "\(unknown.stderr)")
    }

    /// A failure the operator must fix never says "run again to resume": a wrong instance id names what to check.
    @Test func aWrongSourceIsExplainedNotResumed() async throws {
        let w = try await Self.world("wrongid")
        try String(contentsOf: w.plan, encoding: .utf8).replacingOccurrences(of: w.source, with: "i-0123456789abcdef0")
            .write(to: w.plan, atomically: true, encoding: .utf8)
        let r = try w.run(["run", w.plan.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("InvalidInstanceID") || r.stderr.contains("not found"), "\(r.stderr)")
        #expect(r.stderr.contains("region"), "\(r.stderr)")
        #expect(!r.stderr.contains("again to resume"), "\(r.stderr)")
    }
}

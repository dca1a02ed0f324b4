import Testing
import Foundation
import AWSCore
import ClonectlLedger
import ClonectlWorkflow
import TestSupport

/// Exactly once, counted from the AWS side (images and instances by the run's tags, the commands Run Command holds,
/// the simulator's call log), never from clonectl's output: answers lost after AWS acted, and the controller killed
/// (kill -9, Ctrl-C) while a call that acts is held in flight, with the resume started after the call landed or
/// while it is still held. One local AWS serves every case, one case after another.
@Suite(.serialized) struct ExactlyOnceEndToEndTests {
    typealias W = EndToEndTests
    typealias F = FaultEndToEndTests

    static let local = Result { try LocalAWS.startPrivate(config: EndToEndTests.fast) }

    /// A fresh plan and ledger on the suite's local AWS, no fault rules, an empty call log.
    static func world(cleanup: String = "") async throws -> W.World {
        let w = try W.world(on: try local.get())
        if !cleanup.isEmpty {
            try (String(contentsOf: w.plan, encoding: .utf8) + "\n" + cleanup + "\n").write(to: w.plan, atomically: true, encoding: .utf8)
        }
        try await F.post(w, "/faults", ["rules": [] as [Any]])
        try await F.post(w, "/calls/reset", [:] as [String: Any])
        return w
    }

    enum Resume { case afterItLands, whileInFlight }

    /// The simulator's call log counters: calls answered (or lost) per API, and calls held right now.
    static func calls(_ w: W.World, log withLog: Bool = true) async throws
        -> (counts: [String: Int], inFlight: [String: Int], faults: [String]) {
        let log = try await W.control(w, withLog ? "/calls" : "/calls?log=0")
        let entries = log["calls"] as? [[String: Any]] ?? []
        return (log["counts"] as? [String: Int] ?? [:], log["inFlight"] as? [String: Int] ?? [:],
                entries.compactMap { e in (e["fault"] as? String).map { "\(e["api"] as? String ?? "?"):\($0)" } })
    }

    /// Whether the process runs, from /proc (a zombie counts as ended). Foundation's `Process.isRunning` is not
    /// used: with other suites starting and reaping processes in this test process at the same time, it was seen
    /// to answer false for a controller that was still running.
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
        return state != "Z" && state != "X"
    }

    /// Polls until `done` holds or `seconds` pass.
    static func eventually(_ seconds: Double, _ done: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await done() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await done()
    }

    /// Every command Run Command holds for `instanceId` since `since` (ListCommands with an InvokedAfter filter).
    static func commands(_ w: W.World, instanceId: String, since: Date) async throws -> [SSMCommand] {
        var all: [SSMCommand] = []
        var token: String?
        repeat {
            let page = try await w.aws.ssm.listCommands(
                instanceId: instanceId, filters: [CommandFilter(key: "InvokedAfter", value: SSMClient.filterTimestamp(since))],
                maxResults: 50, nextToken: token)
            all += page.commands
            token = page.nextToken
        } while token != nil
        return all
    }

    /// The run succeeded with one source image (none when the plan removes it), one master, one work copy, two
    /// clones; on every instance Run Command holds one command per step and payload; the ledger knows each of them.
    static func expectExactlyOnce(_ w: W.World, since: Date, sourceImages: Int = 1,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let ledger = try Ledger(path: w.ledger)
        let runs = try ledger.runs()
        #expect(runs.count == 1 && runs.first?.status == "succeeded", "\(runs)", sourceLocation: sourceLocation)
        let runId = try #require(runs.first?.id, sourceLocation: sourceLocation)
        let made = try await F.made(w, runId: runId)
        #expect(made.source == sourceImages && made.master == 1 && made.workCopies == 1 && made.clones == 2, "\(made)",
                sourceLocation: sourceLocation)
        let instances = [w.local.sourceInstanceId]
            + (try ledger.resources(runId: runId, includeDeleted: true)).filter { $0.kind == "instance" }.map(\.id)
        var byStep: [String: Set<String>] = [:]
        for id in Set(instances) {
            for command in try await commands(w, instanceId: id, since: since) {
                // "clonectl <step> <payload>@<version> #<marker>": one command per instance, step and payload.
                let words = (command.comment ?? "").split(separator: " ")
                let what = words.filter { !$0.hasPrefix("#") }.joined(separator: " ")
                byStep["\(id) \(what)", default: []].insert(command.commandId)
            }
        }
        let twice = byStep.filter { $0.value.count > 1 }
        #expect(byStep.count >= 8, "the run's guest commands were found: \(byStep.keys.sorted())", sourceLocation: sourceLocation)
        #expect(twice.isEmpty, "sent twice: \(twice)", sourceLocation: sourceLocation)
        var recorded = Set<String>()
        for step in StepName.allCases {
            for command in try ledger.commands(runId: runId, step: step.rawValue) { recorded.insert(command.commandId) }
        }
        let unknown = Set(byStep.values.flatMap { $0 }).subtracting(recorded)
        #expect(unknown.isEmpty, "commands in Run Command the ledger does not know: \(unknown)", sourceLocation: sourceLocation)
    }

    // MARK: - Lost answers

    /// Each call that acts loses its answer once, after AWS carried it out; the run goes on without a kill.
    @Test func everyCallThatActsLosesItsAnswerOnceAndNothingIsDoneTwice() async throws {
        let w = try await Self.world(cleanup: "cleanup: {terminateWorkCopy: true, deregisterSourceImage: true}")
        let since = Date().addingTimeInterval(-1)
        let apis = ["ssm:SendCommand", "ec2:CreateImage", "ec2:RunInstances", "ec2:StopInstances", "ec2:StartInstances",
                    "ec2:CreateTags", "ec2:TerminateInstances", "ec2:DeregisterImage", "ec2:DeleteSnapshot"]
        // SendCommand and CreateImage twice: the first of each (preflight, source image) and a later one.
        try await F.post(w, "/faults", ["rules": apis.map { api in
            ["fault": "lostAnswer", "api": api, "count": ["ssm:SendCommand", "ec2:CreateImage"].contains(api) ? 2 : 1] as [String: Any]
        } + [["fault": "lostAnswer", "api": "ssm:SendCommand", "share": 0.25] as [String: Any]]])
        let r = try w.run(["run", w.plan.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lost = try await Self.calls(w).faults.filter { $0.hasSuffix(":lostAnswer") }
        for api in apis {
            #expect(lost.contains("\(api):lostAnswer"), "\(api) lost an answer: \(lost)")
        }
        try await Self.expectExactlyOnce(w, since: since, sourceImages: 0)
        // The run's own account (its ledger events) of finding what the lost answers hid.
        let ledger = try Ledger(path: w.ledger)
        let events = try ledger.events(runId: try #require(try ledger.runs().first?.id)).map(\.message)
        #expect(events.contains { $0.contains("its lost answer is not sent for again") }, "SendCommand found: \(events)")
        #expect(events.contains { $0.contains("the CreateImage answer was lost, but image") }, "CreateImage found")
    }

    // MARK: - Documents mode (issue 14): the same, each guest step sent as a pinned clonectl document

    /// Puts the world's plan in documents mode under a prefix of its own and publishes the documents (moto's
    /// documents outlive a case); then an empty call log. Returns the published versions by "name@versionName".
    static func inDocumentsMode(_ w: W.World) async throws -> [String: (version: String, sha256: String)] {
        let prefix = "eo\(UUID().uuidString.prefix(6).lowercased())-"
        try (String(contentsOf: w.plan, encoding: .utf8) + "\ndocuments: {mode: documents, prefix: \(prefix)}\n")
            .write(to: w.plan, atomically: true, encoding: .utf8)
        let r = try CLIRun.run(["documents", "publish", "--plan", w.plan.path, "--output", "json"], environment: w.env)
        try #require(r.status == 0, "publish: \(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var published: [String: (version: String, sha256: String)] = [:]
        for d in doc["documents"] as? [[String: Any]] ?? [] {
            published["\(d["name"] as? String ?? "")@\(d["versionName"] as? String ?? "")"] =
                (d["documentVersion"] as? String ?? "", d["sha256"] as? String ?? "")
        }
        try #require(!published.isEmpty)
        try await F.post(w, "/calls/reset", [:] as [String: Any])
        return published
    }

    /// Every guest command of the run was sent as the payload version's clonectl document (Run Command says so),
    /// and the ledger records that document's ARN, version and hash for it, the adopted ones included.
    static func expectSentAsDocuments(_ w: W.World, _ published: [String: (version: String, sha256: String)],
                                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let ledger = try Ledger(path: w.ledger)
        let runId = try #require(try ledger.runs().first?.id, sourceLocation: sourceLocation)
        let commands = try ledger.commands(runId: runId)
        #expect(commands.count >= 8, "\(commands.map(\.step))", sourceLocation: sourceLocation)
        for command in commands {
            let how = try #require(try ledger.commandDocument(nonce: command.nonce), "\(command.step)", sourceLocation: sourceLocation)
            let name = how.documentName
            let pin = try #require(published["\(name)@\(command.version)"], "\(name)@\(command.version) was published", sourceLocation: sourceLocation)
            #expect(how.mode == "documents" && name.hasSuffix("-\(command.payload)"), "\(how)", sourceLocation: sourceLocation)
            #expect(how.documentARN == "arn:aws:ssm:\(w.local.region):123456789012:document/\(name)", sourceLocation: sourceLocation)
            #expect(how.documentVersion == pin.version && how.documentHash == pin.sha256, "\(command.step): \(how)",
                    sourceLocation: sourceLocation)
            let listed = try #require(try await w.aws.ssm.listCommands(commandId: command.commandId).commands.first,
                                      sourceLocation: sourceLocation)
            #expect(listed.documentName == name && listed.parameters?["Nonce"] == [command.nonce],
                    "\(command.step): \(listed.documentName ?? "-") \(listed.parameters ?? [:])", sourceLocation: sourceLocation)
        }
    }

    /// Documents mode: SendCommand loses its answer after Run Command accepted it (the first two, then every
    /// fourth): each is found by its marker and the document's Nonce parameter and adopted; one command per step.
    @Test func inDocumentsModeLostSendCommandAnswersAreAdoptedNotSentTwice() async throws {
        let w = try await Self.world()
        let published = try await Self.inDocumentsMode(w)
        let since = Date().addingTimeInterval(-1)
        try await F.post(w, "/faults", ["rules": [["fault": "lostAnswer", "api": "ssm:SendCommand", "count": 2] as [String: Any],
                                                  ["fault": "lostAnswer", "api": "ssm:SendCommand", "share": 0.25] as [String: Any]]])
        let r = try w.run(["run", w.plan.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lost = try await Self.calls(w).faults.filter { $0 == "ssm:SendCommand:lostAnswer" }
        #expect(lost.count >= 3, "\(lost)")
        try await Self.expectExactlyOnce(w, since: since)
        try await Self.expectSentAsDocuments(w, published)
        let ledger = try Ledger(path: w.ledger)
        let events = try ledger.events(runId: try #require(try ledger.runs().first?.id)).map(\.message)
        #expect(events.filter { $0.contains("its lost answer is not sent for again") }.count == lost.count, "\(events)")
    }

    // MARK: - Killed while a call is held in flight

    /// Starts a run, kills it while the first call of `api` is held, resumes (after it landed, or while it is held).
    func killWhileHeld(_ api: String, signal: Int32, resume: Resume, documents: Bool = false) async throws {
        let w = try await Self.world()
        let published = documents ? try await Self.inDocumentsMode(w) : [:]
        let since = Date().addingTimeInterval(-1)
        // Long enough for a loaded machine to see the hold and start the resume inside it.
        try await F.post(w, "/faults", ["rules": [["fault": "slow", "api": api, "seconds": 8, "count": 1]]])
        // The first controller's stderr goes to a file, to say why if it ended before the hold.
        let log = w.dir.appendingPathComponent("first.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = CLIRun.binary
        process.arguments = ["run", w.plan.path, "--ledger", w.ledger]
        process.environment = w.env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let pid = process.processIdentifier
        let held = try await Self.eventually(240) {
            try await Self.calls(w, log: false).inFlight[api, default: 0] > 0 || !Self.alive(pid)
        }
        let said = (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? ""
        try #require(held && Self.alive(pid), "the controller reached a held \(api) and is still waiting for it; it said: \(said)")
        kill(pid, signal)
        #expect(try await Self.eventually(60) { !Self.alive(pid) }, "the controller ended on the signal")
        switch resume {
        case .afterItLands:
            let landed = try await Self.eventually(30) {
                let c = try await Self.calls(w, log: false)
                return c.inFlight[api, default: 0] == 0 && c.counts[api, default: 0] > 0
            }
            #expect(landed, "the held \(api) landed before the resume")
        case .whileInFlight:
            #expect(try await Self.calls(w, log: false).inFlight[api, default: 0] > 0, "the resume starts while \(api) is held")
        }
        let again = try w.run(["run", w.plan.path])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        try await Self.expectExactlyOnce(w, since: since)
        // The held call itself did land: it is the one the run adopted, not a second one.
        #expect(try await Self.calls(w).counts[api, default: 0] >= 1)
        if documents { try await Self.expectSentAsDocuments(w, published) }
    }

    @Test func sendCommandKilledWithKill9AndResumedWhileItIsStillInFlight() async throws {
        try await killWhileHeld("ssm:SendCommand", signal: SIGKILL, resume: .whileInFlight)
    }

    @Test func sendCommandInterruptedWithCtrlCAndResumedAfterItLanded() async throws {
        try await killWhileHeld("ssm:SendCommand", signal: SIGINT, resume: .afterItLands)
    }

    @Test func createImageKilledWithKill9AndResumedAfterItLanded() async throws {
        try await killWhileHeld("ec2:CreateImage", signal: SIGKILL, resume: .afterItLands)
    }

    @Test func createImageInterruptedWithCtrlCAndResumedWhileItIsStillInFlight() async throws {
        try await killWhileHeld("ec2:CreateImage", signal: SIGINT, resume: .whileInFlight)
    }

    @Test func inDocumentsModeSendCommandKilledWithKill9AndResumedWhileItIsStillInFlight() async throws {
        try await killWhileHeld("ssm:SendCommand", signal: SIGKILL, resume: .whileInFlight, documents: true)
    }

    @Test func runInstancesKilledWithKill9AndResumedWhileItIsStillInFlight() async throws {
        try await killWhileHeld("ec2:RunInstances", signal: SIGKILL, resume: .whileInFlight)
    }
}

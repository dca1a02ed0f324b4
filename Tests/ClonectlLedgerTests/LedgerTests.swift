import Testing
import Foundation
import Synchronization
@testable import ClonectlLedger

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var read: @Sendable () -> Date { { self.now.withLock { $0 } } }
}

func tempLedgerPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-ledger-\(UUID().uuidString)/state/ledger.sqlite").path
}

@Suite struct LedgerTests {
    @Test func fileIsPrivateWALAndMigrated() throws {
        let path = tempLedgerPath()
        let ledger = try Ledger(path: path)
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        let mode = try ledger.database.query("PRAGMA journal_mode") { $0.text(0) }.first
        #expect(mode == "wal")
        let version = try ledger.database.query("PRAGMA user_version") { $0.int(0) }.first
        #expect(version == Ledger.schemaVersion)
        ledger.close()
        ledger.close()
        // Opening again runs no migration twice.
        let again = try Ledger(path: path)
        #expect(try again.runs().isEmpty)
    }

    @Test func aNewerSchemaIsRefused() throws {
        let path = tempLedgerPath()
        let ledger = try Ledger(path: path)
        try ledger.database.execute("PRAGMA user_version = 99")
        ledger.close()
        #expect(throws: LedgerError.tooNew(found: 99, supported: Ledger.schemaVersion)) { try Ledger(path: path) }
    }

    @Test func defaultPathFollowsXDG() {
        #expect(Ledger.defaultPath(environment: ["XDG_STATE_HOME": "/var/state", "HOME": "/h"]) == "/var/state/clonectl/ledger.sqlite")
        #expect(Ledger.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/state/clonectl/ledger.sqlite")
        #expect(Ledger.defaultPath(environment: ["XDG_STATE_HOME": "relative", "HOME": "/h"]) == "/h/.local/state/clonectl/ledger.sqlite")
    }

    @Test func runsAndSteps() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        let run = try ledger.createRun(planName: "app01", planPath: "/plans/app01.yaml", planSha256: "abc")
        #expect(try ledger.unfinishedRun(planName: "app01")?.id == run.id)
        #expect(try ledger.unfinishedRun(planName: "other") == nil)
        try ledger.stepStarted(runId: run.id, step: "preflight")
        try ledger.stepFinished(runId: run.id, step: "preflight", status: "succeeded", stateJSON: #"{"ok":true}"#)
        try ledger.stepStarted(runId: run.id, step: "prep")
        let steps = try ledger.steps(runId: run.id)
        #expect(steps.map(\.name) == ["preflight", "prep"])
        #expect(steps[0].stateJSON == #"{"ok":true}"#)
        #expect(steps[1].status == "running")
        #expect(throws: LedgerError.self) { try ledger.stepFinished(runId: run.id, step: "never-started", status: "failed") }
        try ledger.setRunStatus(run.id, "succeeded")
        #expect(try ledger.run(id: run.id).finishedAt != nil)
        #expect(try ledger.unfinishedRun(planName: "app01") == nil)
        #expect(throws: LedgerError.self) { try ledger.setRunStatus("run-missing", "failed") }
        #expect(throws: LedgerError.self) { try ledger.setRunStatus(run.id, "bogus") }
    }

    @Test func commandsInvocationsAndHistory() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        let run = try ledger.createRun(planName: "p", planPath: "/p.yaml", planSha256: "x")
        let command = CommandRecord(commandId: "c-1", runId: run.id, step: "hostname", payload: "hostname", version: "1.0.0",
                                    payloadSha256: "ff", nonce: "n1", instanceIds: ["i-1", "i-2"],
                                    parametersJSON: #"{"NewName":"APP02"}"#, sentAt: "2026-11-28T00:00:00Z")
        try ledger.recordCommand(command)
        #expect(try ledger.command(id: "c-1") == command)
        #expect(throws: LedgerError.self) { try ledger.recordCommand(command) }
        try ledger.recordInvocation(InvocationRecord(commandId: "c-1", instanceId: "i-1", status: "InProgress",
                                                     startedAt: "t1", updatedAt: "t1"))
        try ledger.recordInvocation(InvocationRecord(commandId: "c-1", instanceId: "i-1", status: "Success", responseCode: 0,
                                                     output: "out", verdict: "verified", resultJSON: "{}", finishedAt: "t2", updatedAt: "t2"))
        // A later poll without output keeps what was recorded.
        try ledger.recordInvocation(InvocationRecord(commandId: "c-1", instanceId: "i-1", status: "Success", updatedAt: "t3"))
        let inv = try #require(try ledger.invocations(commandId: "c-1").first)
        #expect(inv.output == "out")
        #expect(inv.verdict == "verified")
        #expect(inv.startedAt == "t1")
        #expect(inv.updatedAt == "t3")
        let history = try ledger.history(instanceId: "i-1")
        #expect(history.count == 1)
        #expect(history.first?.0.payload == "hostname")
        #expect(try ledger.history(instanceId: "i-1", step: "verify").isEmpty)
        #expect(try ledger.commands(runId: run.id, step: "hostname").map(\.commandId) == ["c-1"])
        #expect(throws: LedgerError.self) { try ledger.command(id: "c-missing") }
    }

    @Test func resourcesAreRecordedOnceAndTrackedToDeletion() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        let run = try ledger.createRun(planName: "p", planPath: "/p.yaml", planSha256: "x")
        try ledger.recordResource(runId: run.id, kind: "image", id: "ami-1", step: "image-source")
        try ledger.recordResource(runId: run.id, kind: "image", id: "ami-1", step: "image-source")
        try ledger.recordResource(runId: run.id, kind: "instance", id: "i-9", step: "launch-work-copy")
        #expect(try ledger.resources(runId: run.id).map(\.id) == ["ami-1", "i-9"])
        try ledger.markResourceDeleted(kind: "instance", id: "i-9")
        #expect(try ledger.resources(runId: run.id).map(\.id) == ["ami-1"])
        #expect(try ledger.resources(runId: run.id, includeDeleted: true).count == 2)
        try ledger.event(runId: run.id, step: "image-source", "waiting for ami-1")
        #expect(try ledger.events(runId: run.id).map(\.message) == ["waiting for ami-1"])
    }

    @Test func aLiveLockIsNotTakenAStaleOneIs() throws {
        let clock = TestClock()
        let ledger = try Ledger(path: tempLedgerPath(), clock: clock.read)
        let a = LockOwner(host: "controller-a.example", pid: 100)
        let b = LockOwner(host: "controller-b.example", pid: 200)
        try ledger.acquireLock("plan:app01", runId: "r1", owner: a)
        try ledger.acquireLock("plan:app01", runId: "r1", owner: a)
        do {
            try ledger.acquireLock("plan:app01", runId: "r2", owner: b)
            Issue.record("a live lock was taken")
        } catch let LedgerError.locked(name, owner, _) {
            #expect(name == "plan:app01")
            #expect(owner.contains("controller-a.example"))
        }
        clock.advance(300)
        try ledger.heartbeat("plan:app01", owner: a)
        clock.advance(400)
        #expect(throws: LedgerError.self) { try ledger.acquireLock("plan:app01", runId: "r2", owner: b, staleAfter: 600) }
        clock.advance(700)
        try ledger.acquireLock("plan:app01", runId: "r2", owner: b, staleAfter: 600)
        #expect(try ledger.events(runId: "r2").contains { $0.message.contains("took over stale lock") })
        #expect(try ledger.breakLock("plan:app01") == b)
        #expect(try ledger.breakLock("plan:app01") == nil)
    }

    @Test func aLockOfADeadProcessOnThisHostIsStale() throws {
        let ledger = try Ledger(path: tempLedgerPath())
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = LockOwner(host: ProcessInfo.processInfo.hostName, pid: Int(child.processIdentifier))
        try ledger.acquireLock("instance:i-1", runId: nil, owner: dead)
        try ledger.acquireLock("instance:i-1", runId: nil)
        try ledger.releaseLock("instance:i-1")
        try ledger.acquireLock("instance:i-1", runId: nil, owner: dead)
    }

    @Test func twoControllersRaceForOneLockAndOneWins() async throws {
        let path = tempLedgerPath()
        _ = try Ledger(path: path)
        let wins = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    guard let ledger = try? Ledger(path: path) else { return false }
                    let owner = LockOwner(host: "host-\(i).example", pid: 1000 + i)
                    return (try? ledger.acquireLock("plan:race", runId: nil, owner: owner)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }
}

/// The ledger's timestamps, written and read without a Foundation date formatter.
@Suite struct UTCTimestampTests {
    @Test func formatsLikeRFC3339InUTC() {
        #expect(UTCTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(UTCTimestamp.format(Date(timeIntervalSince1970: 1_796_161_020.1239)) == "2026-12-01T21:37:00.123Z")
        #expect(UTCTimestamp.format(Date(timeIntervalSince1970: 1_796_161_020.9999), fractional: false) == "2026-12-01T21:37:00Z")
        #expect(UTCTimestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z", "a leap day")
    }

    @Test func readsBackWhatItWritesAndWhatFoundationWrote() throws {
        for t in [0.0, 1_796_161_020.123, 951_782_400.5, 4_102_444_799.999] {
            let text = UTCTimestamp.format(Date(timeIntervalSince1970: t))
            let back = try #require(UTCTimestamp.parse(text), "\(text)")
            #expect(abs(back.timeIntervalSince1970 - t) < 0.001, "\(text)")
        }
        // Rows written by earlier versions (ISO8601DateFormatter with fractional seconds) read the same.
        let foundation = ISO8601DateFormatter()
        foundation.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = Date(timeIntervalSince1970: 1_796_161_020.25)
        #expect(UTCTimestamp.parse(foundation.string(from: date)) == date)
        #expect(UTCTimestamp.format(date) == foundation.string(from: date))
        #expect(UTCTimestamp.parse("2026-12-01T21:37:00Z") == Date(timeIntervalSince1970: 1_796_161_020))
    }

    @Test(arguments: ["", "2026-12-01 21:37:00Z", "2026-13-01T21:37:00Z", "2026-12-01T21:37:00", "2026-12-01T21:37:00.Z",
                      "2026-12-01T21:37:0aZ", "2026-12-01T21:37:00.12xZ", "2026-12-01T21:37:00+01:00"])
    func refusesWhatIsNotAUTCTimestamp(_ text: String) {
        #expect(UTCTimestamp.parse(text) == nil)
    }
}

/// Migration 2: a cleaned run's steps become `undone` (a status the first schema refused).
@Suite struct LedgerCleanedRunTests {
    @Test func aCleanedRunHasItsStepsUndoneAndIsNotResumable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-cleaned-\(UUID().uuidString).sqlite").path
        let ledger = try Ledger(path: path)
        defer { ledger.close() }
        #expect(Ledger.schemaVersion >= 2)
        let run = try ledger.createRun(planName: "p", planPath: "p.yaml", planSha256: "x")
        try ledger.stepStarted(runId: run.id, step: "image-source")
        try ledger.stepFinished(runId: run.id, step: "image-source", status: "succeeded")
        try ledger.stepStarted(runId: run.id, step: "sysprep")
        try ledger.stepFinished(runId: run.id, step: "sysprep", status: "failed", error: "boom")
        try ledger.markRunCleaned(run.id, how: "cleanup --all")
        #expect(try ledger.run(id: run.id).status == "cleaned")
        #expect(try ledger.run(id: run.id).finishedAt != nil)
        let steps = try ledger.steps(runId: run.id)
        #expect(steps.map(\.status) == ["undone", "undone"])
        #expect(steps.first { $0.name == "sysprep" }?.error?.contains("(was: boom)") == true)
        #expect(try ledger.unfinishedRun(planName: "p") == nil)
        #expect(try ledger.events(runId: run.id).contains { $0.message.contains("--new") })
    }
}

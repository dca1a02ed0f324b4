import Foundation
import Testing
@testable import ClonectlLedger

/// A ledger someone else could have planted or can rewrite is refused, each time with the fix.
@Suite struct LedgerTrustTests {
    func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-trust-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return dir
    }

    func refusal(_ body: () throws -> Ledger) -> String {
        do {
            let ledger = try body()
            ledger.close()
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func aSymlinkedLedgerIsRefusedAndADanglingOneNeverCreatesItsTarget() throws {
        let dir = try folder()
        let target = dir + "/elsewhere.sqlite"
        try FileManager.default.createSymbolicLink(atPath: dir + "/ledger.sqlite", withDestinationPath: target)
        let message = refusal { try Ledger(path: dir + "/ledger.sqlite") }
        #expect(message.contains("is a symlink"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: target), "the dangling link's target was created")
        _ = try Ledger(path: target)
        #expect(refusal { try Ledger(path: dir + "/ledger.sqlite") }.contains("is a symlink"))
    }

    @Test func aSymlinkedFolderIsRefused() throws {
        let dir = try folder()
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        #expect(refusal { try Ledger(path: dir + "/link/ledger.sqlite") }.contains("folder \(dir)/link is a symlink"))
    }

    @Test func groupOrWorldWritableIsRefusedWithTheChmod() throws {
        let dir = try folder()
        let path = dir + "/ledger.sqlite"
        try Ledger(path: path).close()
        chmod(path, 0o666)
        let file = refusal { try Ledger(path: path) }
        #expect(file.contains("writable by its group and everyone") && file.contains("chmod 600"), "\(file)")
        chmod(path, 0o600)
        chmod(dir, 0o777)
        let folder = refusal { try Ledger(path: path) }
        #expect(folder.contains("chmod go-w"), "\(folder)")
        chmod(dir, 0o700)
        #expect(refusal { try Ledger(path: path) }.isEmpty)
    }

    @Test func someoneElsesLedgerIsRefused() throws {
        let dir = try folder()
        let path = dir + "/ledger.sqlite"
        try Ledger(path: path).close()
        let other = getuid() == 0 ? uid_t(4242) : getuid() + 1
        guard chown(path, other, gid_t(other)) == 0 else { return }  // only root can give a file away
        let message = refusal { try Ledger(path: path) }
        #expect(message.contains("belongs to user id \(other)") && message.contains("--ledger"), "\(message)")
    }

    @Test func aSQLiteFileThatIsNotALedgerIsNotMigrated() throws {
        let dir = try folder()
        let path = dir + "/other.sqlite"
        let other = try SQLiteDatabase(path: path)
        try other.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        other.close()
        let message = refusal { try Ledger(path: path) }
        #expect(message.contains("not a clonectl ledger") && message.contains("photos"), "\(message)")
        let check = try SQLiteDatabase(path: path)
        #expect(try check.query("PRAGMA user_version") { $0.int(0) }.first == 0, "the file was left as it was")
        #expect(try check.query("SELECT count(*) FROM sqlite_master WHERE name = 'runs'") { $0.int(0) }.first == 0)
    }

    @Test func aReadOnlyLedgerServesReadsAndRefusesWrites() throws {
        let dir = try folder()
        let path = dir + "/ledger.sqlite"
        let ledger = try Ledger(path: path)
        let run = try ledger.createRun(planName: "p", planPath: "p.yaml", planSha256: "0")
        ledger.close()
        chmod(path, 0o400)
        defer { chmod(path, 0o600) }
        let reader = try Ledger(path: path, forReading: true)
        #expect(try reader.runs().map(\.id) == [run.id])
        reader.close()
        let write = refusal { try Ledger(path: path) }
        #expect(write.contains("read-only for you") && write.contains("chmod u+w"), "\(write)")
    }

    @Test func aDuplicateCommandIdIsAClearError() throws {
        let dir = try folder()
        let ledger = try Ledger(path: dir + "/ledger.sqlite")
        defer { ledger.close() }
        let run = try ledger.createRun(planName: "p", planPath: "p.yaml", planSha256: "0")
        func command(_ step: String) -> CommandRecord {
            CommandRecord(commandId: "c-dup", runId: run.id, step: step, payload: "hostname", version: "1.0.0",
                          payloadSha256: "0", nonce: "n", instanceIds: ["i-1"], parametersJSON: "{}", sentAt: "2026-01-01T00:00:00Z")
        }
        try ledger.recordCommand(command("prep"))
        do {
            try ledger.recordCommand(command("sysprep"))
            Issue.record("recorded a second command with the same id")
        } catch {
            #expect("\(error)".contains("already holds for step prep") && !"\(error)".contains("UNIQUE"), "\(error)")
        }
    }
}

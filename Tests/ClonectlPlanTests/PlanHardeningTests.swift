import Foundation
import Testing
@testable import ClonectlPlan

/// Plans that are not plans, plans too big, and YAML errors that must not show a secret.
@Suite struct PlanHardeningTests {
    func tempFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).yaml").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func message(_ body: () throws -> Plan) -> String {
        do {
            _ = try body()
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func aYAMLErrorNeverQuotesASecretLine() {
        let yaml = PlanLoaderTests.minimal + "\nprep:\n  workUser:\n    password: \"hunter2-Secret\n    name: x\n"
        let text = message { try PlanLoader.parse(yaml, file: "p.yaml") }
        #expect(text.contains("not valid YAML"), "\(text)")
        #expect(!text.contains("hunter2"), "\(text)")
    }

    @Test func aYAMLErrorQuotesAnOrdinaryLine() {
        let yaml = "version: 1\nname: [web01\n"
        let text = message { try PlanLoader.parse(yaml, file: "p.yaml") }
        #expect(text.contains("not valid YAML"), "\(text)")
        #expect(PlanYAMLError.quotable("name: [web01"))
        #expect(!PlanYAMLError.quotable("    passwordParameter: \"x"))
        #expect(!PlanYAMLError.quotable("  apiToken: abc"))
        #expect(!PlanYAMLError.quotable("  continued text of a scalar"))
        #expect(!PlanYAMLError.quotable("    name:   password: hunter2"), "a second key on a broken line (found by the fuzz target)")
    }

    @Test func tooManyClonesAreRefusedWithTheLimit() {
        var yaml = PlanLoaderTests.minimal.components(separatedBy: "clones:")[0] + "clones:\n"
        for i in 0...PlanLoader.maxClones {
            yaml += "  - {name: c\(i), subnetId: subnet-0aaaaaaaaaaaaaaaa, hostName: H\(i)}\n"
        }
        let text = message { try PlanLoader.parse(yaml, file: "p.yaml") }
        #expect(text.contains("\(PlanLoader.maxClones + 1) clones"), "\(text)")
        #expect(text.contains("5000"), "\(text)")
    }

    @Test func utf16AndInvalidUTF8AreClearErrors() throws {
        let utf16 = try tempFile([0xFF, 0xFE] + Array(PlanLoaderTests.minimal.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(message { try PlanLoader.load(path: utf16) }.contains("UTF-16"))
        let latin1 = try tempFile(Array("version: 1\nname: caf".utf8) + [0xE9] + Array("\n".utf8))
        let text = message { try PlanLoader.load(path: latin1) }
        #expect(text.contains("not valid UTF-8") && text.contains("line 2"), "\(text)")
        let bom = try tempFile([0xEF, 0xBB, 0xBF] + Array(PlanLoaderTests.minimal.utf8))
        #expect(try PlanLoader.load(path: bom).name == "web01", "a UTF-8 byte order mark is fine")
    }

    @Test func aFolderOrAFIFOIsNotAPlan() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plan-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(message { try PlanLoader.load(path: dir.path) }.contains("is a folder"))
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Reading a FIFO nobody writes would block forever: it is refused before it is opened.
        #expect(message { try PlanLoader.load(path: fifo) }.contains("a pipe (FIFO)"))
        #expect(message { try PlanLoader.load(path: "/dev/null") }.contains("a device"))
    }
}

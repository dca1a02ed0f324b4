import Testing
import Foundation
import ArgumentParser
import ClonectlAgent
@testable import ClonectlCLI

/// `clonectl step --targets FILE`: one instance per line with its own parameters; mistakes named by file:line.
@Suite struct StepTargetsTests {
    func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("targets-\(UUID().uuidString).txt")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func linesWithTheirOwnParameters() throws {
        let path = try file("""
            # the web tier
            i-0abc1234def567890 NewName=WEB01 TimeZoneId="Tokyo Standard Time"

            i-0abc1234def567891   # no own parameters
            i-0abc1234def567892 Retries=3 Force=true
            """)
        let targets = try StepCommand.readTargets(path)
        #expect(targets.map(\.0) == ["i-0abc1234def567890", "i-0abc1234def567891", "i-0abc1234def567892"])
        #expect(targets[0].1.map(\.0) == ["NewName", "TimeZoneId"])
        #expect(targets[0].1[1].1 == .string("Tokyo Standard Time"))
        #expect(targets[1].1.isEmpty)
        #expect(targets[2].1[0].1 == .int(3) && targets[2].1[1].1 == .bool(true))
    }

    @Test(arguments: [
        ("web01 NewName=X\n", "targets:1", "not an instance id"),
        ("i-0abc1234def567890\ni-0abc1234def567891 NewName\n", ":2", "must be NAME=VALUE"),
        ("i-0abc1234def567890 TimeZoneId=\"Tokyo\n", ":1", "double quote is not closed"),
        ("# nothing here\n\n", "", "names no instance"),
    ])
    func mistakesAreNamedWithTheirLine(_ text: String, _ place: String, _ message: String) throws {
        let path = try file(text)
        #expect { try StepCommand.readTargets(path) } throws: { error in
            let m = (error as? ValidationError)?.message ?? ""
            return m.contains(message) && (place.isEmpty || m.contains(place.hasPrefix(":") ? "\(path)\(place)" : path + ":1"))
        }
    }

    @Test func rateControlsAreCheckedBeforeAnyCall() throws {
        #expect(throws: (any Error).self) { try StepCommand.parse(["verify", "--instance", "i-0abc1234def567890", "--max-concurrency", "0"]) }
        #expect(throws: (any Error).self) { try StepCommand.parse(["verify", "--instance", "i-0abc1234def567890", "--max-errors", "150%"]) }
        #expect(throws: (any Error).self) { try StepCommand.parse(["verify"]) }
        let ok = try StepCommand.parse(["verify", "--instance", "i-0abc1234def567890", "--max-concurrency", "10%", "--max-errors", "0"])
        #expect(ok.maxConcurrency == "10%" && ok.maxErrors == "0")
    }
}

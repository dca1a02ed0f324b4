import ArgumentParser
import ClonectlCLI
import Foundation
import Testing
@testable import ClonectlAgent

@Suite struct PayloadsCLITests {
    let fixture = AgentFixtures.root.path

    @Test func parsesEverySubcommand() throws {
        let list = try #require(try Clonectl.parseAsRoot(["payloads", "list", "--payloads", fixture, "--output", "json"]) as? PayloadsListCommand)
        #expect(list.payloads.directory == fixture && list.output == .json)
        let show = try #require(try Clonectl.parseAsRoot(["payloads", "show", "hostname@1.0.0", "--source"]) as? PayloadsShowCommand)
        #expect(show.reference == "hostname@1.0.0" && show.source)
        #expect(try Clonectl.parseAsRoot(["payloads", "verify"]) is PayloadsVerifyCommand)
        let render = try #require(try Clonectl.parseAsRoot(["payloads", "render", "hostname", "--param", "NewName=APP02",
                                                            "--param", "Restart:=false"]) as? PayloadsRenderCommand)
        #expect(try render.parsedParams().json == .object([("NewName", .string("APP02")), ("Restart", .bool(false))]))
    }

    @Test(arguments: [
        (["payloads", "show", "Host@1"], "not a payload reference"),
        (["payloads", "render", "hostname", "--param", "NewName"], "Name=value or Name:=json"),
        (["payloads", "render", "hostname", "--param", "Restart:=nope"], "needs a JSON value"),
        (["payloads", "render", "hostname", "--param", "AdminPassword=x"], "Parameter Store"),
        (["payloads", "render", "hostname", "--nonce", "xyz"], "32 lower-case hex"),
        (["payloads", "render", "hostname", "--param", "A=1", "--params-file", "/dev/null"], "not both"),
    ])
    func refusesBadArguments(_ args: [String], _ message: String) {
        #expect {
            try Clonectl.parseAsRoot(args)
        } throws: { error in
            Clonectl.message(for: error).contains(message)
        }
    }

    @Test func listAndShowRenderTheFixture() throws {
        let store = try AgentFixtures.store()
        let table = PayloadsListCommand.render(store, format: .text)
        #expect(table.contains("hostname   1.1.0    1.0.0,1.1.0"))
        let json = try JSONParser.parse(PayloadsListCommand.render(store, format: .json))
        #expect(json.arrayValue?.map { $0["name"]?.stringValue } == ["hostname", "time-zone"])
        #expect(json.arrayValue?.first?["versions"] == .array([.string("1.0.0"), .string("1.1.0")]))
        let shown = try PayloadsShowCommand.render(store, reference: "hostname@1.0.0", source: true, format: .text)
        #expect(shown.contains("-NewName [string] mandatory  ValidateLength(1, 15)"))
        #expect(shown.contains("<#PSScriptInfo .VERSION 1.0.0 #>"))
        let shownJSON = try JSONParser.parse(try PayloadsShowCommand.render(store, reference: "hostname", source: false, format: .json))
        #expect(shownJSON["version"] == .string("1.1.0") && shownJSON["latest"] == .bool(true))
        #expect(shownJSON["parameters"]?.arrayValue?.count == 2)
    }

    @Test func verifyExitsNonZeroOnATamperedCopy() throws {
        let ok = try #require(try Clonectl.parseAsRoot(["payloads", "verify", "--payloads", fixture]) as? PayloadsVerifyCommand)
        try ok.run()

        let dir = try AgentFixtures.copy()
        defer { AgentFixtures.cleanup(dir) }
        try AgentFixtures.append("Write-Output 'oops'\n", to: dir.appendingPathComponent("payloads/time-zone/1.0.0.ps1"))
        let bad = try #require(try Clonectl.parseAsRoot(["payloads", "verify", "--payloads", dir.path]) as? PayloadsVerifyCommand)
        #expect { try bad.run() } throws: { error in
            "\(error)".contains("problem(s)") && "\(error)".contains("time-zone")
        }
        let (text, passed) = PayloadsVerifyCommand.report(PayloadAudit.run(try PayloadStore(root: dir)), root: dir.path)
        #expect(!passed)
        #expect(text.contains("\(dir.path)/payloads/time-zone/1.0.0.ps1: time-zone@1.0.0: SHA-256 is"))
        #expect(text.contains("changed without a version bump"))
        // show refuses the changed file too, rather than displaying bytes that would not be sent.
        #expect(throws: AgentError.self) {
            try PayloadsShowCommand.render(try PayloadStore(root: dir), reference: "time-zone", source: true, format: .text)
        }
    }
}

import Foundation
import Testing
@testable import ClonectlAgent

@Suite struct ManifestTests {
    static let hash = String(repeating: "a", count: 64)

    func manifest(payloads: String = "", loader: String? = nil, modules: String? = nil, format: String = "1") -> String {
        let l = loader ?? #"{"version":"1.0.0","path":"loader/1.0.0/loader.ps1","sha256":"\#(Self.hash)"}"#
        let m = modules ?? #"[{"version":"1.0.0","path":"agent/1.0.0/CloneAgent.psm1","sha256":"\#(Self.hash)"}]"#
        return #"{"formatVersion":\#(format),"loader":\#(l),"modules":\#(m),"payloads":[\#(payloads)]}"#
    }

    func entry(name: String = "hostname", version: String = "1.0.0", path: String = "payloads/hostname/1.0.0.ps1",
               sha: String = hash, module: String = "1.0.0") -> String {
        #"{"name":"\#(name)","version":"\#(version)","path":"\#(path)","sha256":"\#(sha)","module":"\#(module)","description":"d"}"#
    }

    func parse(_ text: String) throws -> Manifest { try Manifest.parse(Array(text.utf8), file: "ps-scripts/manifest.json") }

    func expectError(_ text: String, mentions: [String]) {
        #expect {
            try parse(text)
        } throws: { error in
            let e = error as? AgentError
            return e?.kind == .badManifest && mentions.allSatisfy { e!.message.contains($0) }
                && e!.message.hasPrefix("ps-scripts/manifest.json: ")
        }
    }

    @Test func parsesTheFixture() throws {
        let store = try AgentFixtures.store()
        #expect(store.manifest.payloads.map(\.reference) == ["hostname@1.0.0", "hostname@1.1.0", "time-zone@1.0.0"])
        #expect(store.manifest.loader.path == "loader/1.0.0/loader.ps1")
        #expect(store.manifest.module(version: "1.0.0")?.path == "agent/1.0.0/CloneAgent.psm1")
    }

    @Test func acceptsALoaderArray() throws {
        let loaders = #"[{"version":"1.0.0","path":"loader/1.0.0/loader.ps1","sha256":"\#(Self.hash)"},{"version":"1.2.0","path":"loader/1.2.0/loader.ps1","sha256":"\#(Self.hash)"}]"#
        #expect(try parse(manifest(loader: loaders)).loader.version == "1.2.0")
    }

    @Test func namesTheMemberAndTheFix() {
        expectError("{not json", mentions: ["not valid JSON", "fix the syntax"])
        expectError("[]", mentions: ["(root)", "object"])
        expectError(manifest(format: "2"), mentions: ["formatVersion", "must be 1"])
        expectError(manifest(loader: "3"), mentions: ["loader", "must be an object"])
        expectError(manifest(modules: "[]"), mentions: ["modules", "non-empty"])
        expectError(manifest(payloads: entry(sha: "ABC")), mentions: ["payloads[0].sha256", "64 lower-case hex"])
        expectError(manifest(payloads: entry(version: "1.0")), mentions: ["payloads[0].version", "'1.0'", "MAJOR.MINOR.PATCH"])
        expectError(manifest(payloads: entry(name: "Host_Name")), mentions: ["payloads[0].name", "lower-case"])
        expectError(manifest(payloads: entry(path: "../etc/passwd")), mentions: ["payloads[0].path", "no '..'"])
        expectError(manifest(payloads: entry(path: "/abs.ps1")), mentions: ["payloads[0].path"])
        expectError(manifest(payloads: entry(module: "2.0.0")), mentions: ["payloads[0].module", "not listed under modules"])
        expectError(manifest(payloads: entry() + "," + entry()), mentions: ["payloads", "'hostname@1.0.0' twice"])
        expectError(manifest(payloads: #"{"name":"x"}"#), mentions: ["payloads[0].module", "missing"])
    }

    @Test func versionsAndReferences() throws {
        #expect(SemanticVersion("1.10.0")! > SemanticVersion("1.9.3")!)
        for bad in ["1.0", "v1.0.0", "01.0.0", "1.0.0-rc1", "1..0", ""] { #expect(SemanticVersion(bad) == nil) }
        #expect(try PayloadNames.parseReference("hostname") == ("hostname", nil))
        #expect(try PayloadNames.parseReference("hostname@1.2.3") == ("hostname", "1.2.3"))
        #expect(throws: AgentError.self) { try PayloadNames.parseReference("hostname@latest") }
        #expect(throws: AgentError.self) { try PayloadNames.parseReference("Hostname") }
    }
}

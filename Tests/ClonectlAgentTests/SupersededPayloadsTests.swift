import Foundation
import Testing
import TestSupport
@testable import ClonectlAgent
@testable import ClonectlCLI

/// Payloads 1.1.0 are the default; 1.0.0 stays released and runnable but is marked superseded with its reason:
/// `payloads list` shows it, a plan that pins it gets a warning, and each version keeps the loader it came with.
@Suite struct SupersededPayloadsTests {
    static let repository = TestEnvironment.repoRoot.appendingPathComponent("ps-scripts")

    static func manifest(_ extra: String) -> [UInt8] {
        let sha = String(repeating: "a", count: 64)
        return Array("""
        {"formatVersion": 1,
         "loader": {"version": "1.0.0", "path": "loader/1.0.0/loader.ps1", "sha256": "\(sha)"},
         "modules": [{"version": "1.0.0", "path": "agent/1.0.0/CloneAgent.psm1", "sha256": "\(sha)"}],
         "payloads": [{"name": "hostname", "version": "1.0.0", "path": "payloads/hostname/1.0.0.ps1", "sha256": "\(sha)",
                       "module": "1.0.0", "description": "d"\(extra)}]}
        """.utf8)
    }

    @Test func theReasonIsReadAndAnEmptyOneIsRefused() throws {
        let m = try Manifest.parse(Self.manifest(#", "superseded": "fixed in 1.1.0: D1""#), file: "m.json")
        #expect(m.payloads[0].superseded == "fixed in 1.1.0: D1")
        #expect(try Manifest.parse(Self.manifest(""), file: "m.json").payloads[0].superseded == nil)
        #expect {
            try Manifest.parse(Self.manifest(#", "superseded": """#), file: "m.json")
        } throws: { error in
            (error as? AgentError)?.message.contains("payloads[0].superseded must be a non-empty string") == true
        }
    }

    @Test func theRepositoryDefaultsTo110AndKeeps100WithItsOwnLoader() throws {
        let store = try PayloadStore(root: Self.repository)
        let latest = try store.resolve("hostname")
        #expect(latest.version == "1.1.0" && latest.superseded == nil && latest.module == "1.1.0")
        let old = try store.resolve("hostname@1.0.0")
        #expect(old.superseded?.contains("1.1.0") == true)
        let newLoader = try LoaderBuilder.build(store: store, reference: "hostname", params: .empty)
        let oldLoader = try LoaderBuilder.build(store: store, reference: "hostname@1.0.0", params: .empty)
        #expect(newLoader.record.loaderVersion == "1.1.0" && newLoader.record.moduleVersion == "1.1.0")
        #expect(oldLoader.record.loaderVersion == "1.0.0" && oldLoader.record.moduleVersion == "1.0.0",
                "a released payload keeps the loader it was released with")
        #expect(oldLoader.text.contains("WriteAllBytes") && !newLoader.text.contains("WriteAllBytes"))
    }

    @Test func aPinnedSupersededVersionWarnsAndAnUnknownOneIsAnError() throws {
        let store = try PayloadStore(root: Self.repository)
        let warnings = try store.pinWarnings([(name: "hostname", version: "1.0.0"), (name: "verify", version: "1.1.0")])
        #expect(warnings.count == 1)
        #expect(warnings[0].hasPrefix("warning: the plan pins hostname@1.0.0, which is superseded (latest 1.1.0): "))
        #expect {
            try store.pinWarnings([(name: "hostname", version: "9.9.9")])
        } throws: { error in
            (error as? AgentError)?.message.contains("hostname has no version 9.9.9") == true
        }
    }

    @Test func payloadsListMarksSupersededVersionsWithTheirReason() throws {
        let store = try PayloadStore(root: Self.repository)
        let text = PayloadsListCommand.render(store, format: .text)
        #expect(text.contains("1.0.0*,1.1.0"))
        #expect(text.contains("* superseded: domain-join@1.0.0, firewall-off@1.0.0,"))
        #expect(text.contains("D2 secrets reached PowerShell module logging"))
        let json = try JSONParser.parse(PayloadsListCommand.render(store, format: .json))
        let hostname = try #require(json.arrayValue?.first { $0["name"]?.stringValue == "hostname" })
        #expect(hostname["latest"]?.stringValue == "1.1.0")
        #expect(hostname["superseded"]?["1.0.0"]?.stringValue?.contains("D1") == true)
    }
}

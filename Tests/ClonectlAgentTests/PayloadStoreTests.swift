import ClonectlCrypto
import Foundation
import Testing
@testable import ClonectlAgent

@Suite struct PayloadStoreTests {
    @Test func resolvesLatestAndExactVersions() throws {
        let store = try AgentFixtures.store()
        #expect(try store.resolve("hostname").version == "1.1.0")
        #expect(try store.resolve("hostname@1.0.0").path == "payloads/hostname/1.0.0.ps1")
        #expect { try store.resolve("hostname@9.9.9") } throws: { e in
            let m = "\(e)"
            return m.contains("no version 9.9.9") && m.contains("1.0.0, 1.1.0")
        }
        #expect { try store.resolve("nope") } throws: { "\($0)".contains("known: hostname, time-zone") }
    }

    @Test func readsVerifiedBytes() throws {
        let store = try AgentFixtures.store()
        let entry = try store.resolve("time-zone")
        let bytes = try store.payloadBytes(entry)
        #expect(bytes == (try AgentFixtures.bytes(entry.path)))
        #expect(Hex.encode(Crypto.sha256(bytes)) == entry.sha256)
    }

    @Test func refusesAFileChangedWithoutAVersionBump() throws {
        let dir = try AgentFixtures.copy()
        defer { AgentFixtures.cleanup(dir) }
        let file = dir.appendingPathComponent("payloads/hostname/1.1.0.ps1")
        try AgentFixtures.append("# a quiet fix\n", to: file)
        let store = try PayloadStore(root: dir)
        let entry = try store.resolve("hostname@1.1.0")
        let actual = Hex.encode(Crypto.sha256([UInt8](try Data(contentsOf: file))))
        #expect { try store.payloadBytes(entry) } throws: { error in
            guard let e = error as? AgentError, e.kind == .hashMismatch else { return false }
            return e.message.contains(file.path) && e.message.contains(entry.sha256) && e.message.contains(actual)
                && e.message.contains("changed without a version bump?")
        }
        // The untouched version is still usable: each release stands alone.
        #expect(try store.payloadBytes(try store.resolve("hostname@1.0.0")).count > 0)
        // And no loader can be built from the changed one.
        #expect(throws: AgentError.self) {
            try LoaderBuilder.build(store: store, reference: "hostname@1.1.0",
                                    params: try .plain([("NewName", .string("APP02"))]))
        }
    }

    @Test func auditPassesTheFixtureAndNamesEachBadFile() throws {
        #expect(PayloadAudit.run(try AgentFixtures.store()).ok)
        let dir = try AgentFixtures.copy()
        defer { AgentFixtures.cleanup(dir) }
        try AgentFixtures.append(" ", to: dir.appendingPathComponent("agent/1.0.0/CloneAgent.psm1"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("payloads/time-zone/1.0.0.ps1"))
        try Data("param()\n".utf8).write(to: dir.appendingPathComponent("payloads/hostname/1.2.0.ps1"))
        let audit = PayloadAudit.run(try PayloadStore(root: dir))
        #expect(audit.checked == 5)
        #expect(audit.problems.map(\.path) == ["agent/1.0.0/CloneAgent.psm1", "payloads/hostname/1.2.0.ps1",
                                               "payloads/time-zone/1.0.0.ps1"])
        #expect(audit.problems[0].message.contains("changed without a version bump"))
        #expect(audit.problems[1].message.contains("not listed in manifest.json"))
        #expect(audit.problems[2].message.contains("missing"))
    }

    @Test func locatesExplicitEnvironmentInstalledAndCheckout() throws {
        let fixture = AgentFixtures.root.path
        #expect(try PayloadStore.locate(explicit: fixture, environment: [:], executable: nil).path == fixture)
        #expect(try PayloadStore.locate(explicit: nil, environment: ["CLONECTL_PAYLOADS": fixture], executable: nil).path == fixture)
        #expect { try PayloadStore.locate(explicit: "/nonexistent", environment: [:], executable: nil) } throws: {
            "\($0)".contains("--payloads names '/nonexistent', which holds no manifest.json")
        }

        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-locate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        // Installed: <prefix>/bin/clonectl and <prefix>/share/clonectl/ps-scripts.
        let installed = tmp.appendingPathComponent("usr/local/share/clonectl/ps-scripts")
        try FileManager.default.createDirectory(at: installed, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: installed.appendingPathComponent("manifest.json"))
        let bin = tmp.appendingPathComponent("usr/local/bin/clonectl")
        #expect(try PayloadStore.locate(explicit: nil, environment: [:], executable: bin).path == installed.path)
        // Checkout: <repo>/.build/debug/clonectl finds <repo>/ps-scripts.
        let repo = tmp.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("ps-scripts"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: repo.appendingPathComponent("ps-scripts/manifest.json"))
        let debug = repo.appendingPathComponent(".build/debug/clonectl")
        #expect(try PayloadStore.locate(explicit: nil, environment: [:], executable: debug).path == repo.appendingPathComponent("ps-scripts").path)
        // Nothing anywhere: the error lists where it looked and what to pass.
        #expect { try PayloadStore.locate(explicit: nil, environment: [:], executable: tmp.appendingPathComponent("x/bin/clonectl")) } throws: { e in
            "\(e)".contains("pass --payloads DIR or set CLONECTL_PAYLOADS") && "\(e)".contains("share/clonectl/ps-scripts")
        }
    }

    @Test func parsesParamBlocks() throws {
        let v110 = String(decoding: try AgentFixtures.bytes("payloads/hostname/1.1.0.ps1"), as: UTF8.self)
        let params = ScriptParameter.parse(script: v110)
        #expect(params.map(\.name) == ["NewName", "Restart"])
        #expect(params[0] == ScriptParameter(name: "NewName", type: "string", mandatory: true,
                                             attributes: ["ValidateLength(1, 15)"], defaultValue: nil))
        #expect(params[1] == ScriptParameter(name: "Restart", type: "bool", mandatory: false, attributes: [], defaultValue: "$true"))
        let tz = ScriptParameter.parse(script: String(decoding: try AgentFixtures.bytes("payloads/time-zone/1.0.0.ps1"), as: UTF8.self))
        #expect(tz.map(\.mandatory) == [true])
        #expect(ScriptParameter.parse(script: "# param($x)\nWrite-Output 'param(1)'").isEmpty)
    }
}

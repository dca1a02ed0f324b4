import Foundation
import Testing
@testable import ClonectlAgent

/// Payloads come from four places only, each checked before its payloads can run as SYSTEM on the clones.
@Suite struct PayloadSearchTrustTests {
    func tree() throws -> URL {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return tmp
    }

    func payloads(at dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try Data("{}".utf8).write(to: dir.appendingPathComponent("manifest.json"))
        chmod(dir.appendingPathComponent("manifest.json").path, 0o644)
    }

    func failure(_ body: () throws -> URL) -> String {
        do { return "found \(try body().path)" } catch { return "\(error)" }
    }

    @Test func noSearchUpwardsFromTheBinary() throws {
        let tmp = try tree()
        defer { try? FileManager.default.removeItem(at: tmp) }
        // A ps-scripts folder planted above the binary's folder is not a place clonectl looks.
        try payloads(at: tmp.appendingPathComponent("opt/ps-scripts"))
        let bin = tmp.appendingPathComponent("opt/tools/bin/clonectl")
        let message = failure { try PayloadStore.locate(explicit: nil, environment: [:], executable: bin) }
        #expect(message.contains("no ps-scripts folder") && !message.hasPrefix("found "), "\(message)")
        // A checkout's .build binary still finds the checkout's own payloads.
        let repo = tmp.appendingPathComponent("repo")
        try payloads(at: repo.appendingPathComponent("ps-scripts"))
        let built = repo.appendingPathComponent(".build/x86_64-unknown-linux-gnu/debug/clonectl")
        #expect(try PayloadStore.locate(explicit: nil, environment: [:], executable: built).path == repo.appendingPathComponent("ps-scripts").path)
    }

    @Test func writableByOthersIsRefusedWithTheChmod() throws {
        let tmp = try tree()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let dir = tmp.appendingPathComponent("ps-scripts")
        try payloads(at: dir)
        chmod(dir.path, 0o777)
        let folder = failure { try PayloadStore.locate(explicit: dir.path, environment: [:], executable: nil) }
        #expect(folder.contains("writable by everyone") && folder.contains("chmod go-w '\(dir.path)'"), "\(folder)")
        chmod(dir.path, 0o755)
        chmod(dir.appendingPathComponent("manifest.json").path, 0o664)
        let manifest = failure { try PayloadStore.locate(explicit: nil, environment: ["CLONECTL_PAYLOADS": dir.path], executable: nil) }
        #expect(manifest.contains("manifest.json") && manifest.contains("its group") && manifest.contains("CLONECTL_PAYLOADS"), "\(manifest)")
        chmod(dir.appendingPathComponent("manifest.json").path, 0o644)
        #expect(try PayloadStore.locate(explicit: dir.path, environment: [:], executable: nil).path == dir.path)
    }

    @Test func someoneElsesFolderIsRefused() throws {
        let tmp = try tree()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let dir = tmp.appendingPathComponent("ps-scripts")
        try payloads(at: dir)
        let other = getuid() == 0 ? uid_t(4242) : getuid() + 1
        guard chown(dir.path, other, gid_t(other)) == 0 else { return }  // only root can give a folder away
        let message = failure { try PayloadStore.locate(explicit: dir.path, environment: [:], executable: nil) }
        #expect(message.contains("belongs to user id \(other)") && message.contains("--payloads"), "\(message)")
    }
}

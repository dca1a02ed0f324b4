import Foundation
import TestSupport
@testable import ClonectlAgent

/// Paths and throwaway copies of the fixture ps-scripts tree.
enum AgentFixtures {
    static let root = TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/ps-scripts-fixture")
    static let vectors = TestEnvironment.repoRoot.appendingPathComponent("Tests/Fixtures/envelope-vectors.json")

    static func store() throws -> PayloadStore { try PayloadStore(root: root) }

    /// A fresh copy of the fixture tree in a temp folder, removed by `cleanup`.
    static func copy() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("clonectl-agent-\(UUID().uuidString)/ps-scripts")
        try FileManager.default.createDirectory(at: dir.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root, to: dir)
        return dir
    }

    static func cleanup(_ dir: URL) {
        try? FileManager.default.removeItem(at: dir.deletingLastPathComponent())
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    /// Appends text to a file, as an edit without a version bump would.
    static func append(_ text: String, to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}

import Foundation
import Testing
import TestSupport
@testable import ClonectlAgent

/// The repository's real ps-scripts (once its manifest exists): every file matches its hash, and every payload's
/// loader builds under the size limit with substituted values from the safe alphabets.
private let repositoryPayloads = TestEnvironment.repoRoot.appendingPathComponent("ps-scripts")
private let hasRepositoryManifest = FileManager.default.fileExists(
    atPath: repositoryPayloads.appendingPathComponent("manifest.json").path)

@Suite(.enabled(if: hasRepositoryManifest, "ps-scripts/manifest.json is not in this checkout yet"))
struct RepositoryPayloadsTests {
    static let root = repositoryPayloads

    @Test func manifestMatchesEveryFile() throws {
        let audit = PayloadAudit.run(try PayloadStore(root: Self.root))
        #expect(audit.ok, "\(audit.problems.map(\.description).joined(separator: "\n"))")
    }

    @Test func everyPayloadVersionRendersUnderTheLimit() throws {
        let store = try PayloadStore(root: Self.root)
        let base64 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        for entry in store.manifest.payloads {
            let cmd = try LoaderBuilder.build(store: store, reference: entry.reference, params: .empty)
            #expect(cmd.size <= LoaderBuilder.maxCharacters)
            #expect(!cmd.text.contains("{{"))
            let script = try Gzip.compress(try store.payloadBytes(entry))
            #expect(cmd.text.contains(Data(script).base64EncodedString()), "\(entry.reference): script not embedded")
            #expect(Data(script).base64EncodedString().allSatisfy(base64.contains))
        }
    }
}

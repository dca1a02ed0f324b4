import ClonectlCrypto
import Foundation
import Testing
import TestSupport
@testable import ClonectlAgent

/// The Command document of a payload version (documents mode): its shape, its two parameters and their
/// allowedPattern, and that SSM filling them gives exactly the inline loader.
@Suite struct CommandDocumentTests {
    static let nonce = "00112233445566778899aabbccddeeff"

    static func repositoryStore() throws -> PayloadStore {
        try PayloadStore(root: TestEnvironment.repoRoot.appendingPathComponent("ps-scripts"))
    }

    func parsed(_ doc: CommandDocument) throws -> JSONValue { try JSONParser.parse(doc.content) }

    /// What SSM and the agent do: replace each {{ Name }} by its value, join the runCommand lines with newlines.
    func filled(_ doc: CommandDocument, _ values: [String: [String]]) throws -> String {
        let json = try parsed(doc)
        let lines = try #require(json["mainSteps"]?.arrayValue?.first?["inputs"]?["runCommand"]?.arrayValue)
        var text = lines.compactMap(\.stringValue).joined(separator: "\n")
        for (key, value) in values { text = text.replacingOccurrences(of: "{{ \(key) }}", with: value[0]) }
        return text
    }

    @Test func everyReleasedPayloadVersionIsADocumentWithinSSMsLimit() throws {
        let store = try Self.repositoryStore()
        for entry in store.manifest.payloads {
            let doc = try CommandDocument.build(store: store, entry: entry)
            #expect(doc.name == "clonectl-\(entry.name)" && doc.versionName == entry.version)
            #expect(doc.size <= CommandDocument.maxContentBytes, "\(entry.reference): \(doc.size) bytes")
            #expect(doc.sha256 == Hex.encode(Crypto.sha256(Array(doc.content.utf8))))
            // A pure function of the released bytes: built twice, the same content (and so the same SSM hash).
            #expect(try CommandDocument.build(store: store, entry: entry) == doc)
            let json = try parsed(doc)
            #expect(json["schemaVersion"]?.stringValue == "2.2")
            let params = try #require(json["parameters"]?.objectMembers)
            #expect(params.map(\.0) == ["Nonce", "Params"])
            #expect(json["parameters"]?["Nonce"]?["allowedPattern"]?.stringValue == "^[0-9a-f]{32}$")
            #expect(json["parameters"]?["Params"]?["allowedPattern"]?.stringValue == "^[A-Za-z0-9+/]*={0,2}$")
            for (_, spec) in params { #expect(spec["type"]?.stringValue == "String" && spec["default"] == nil) }
            let step = try #require(json["mainSteps"]?.arrayValue?.first)
            #expect(step["action"]?.stringValue == "aws:runPowerShellScript")
            // The only {{ }} in the script are the two parameters.
            let script = (step["inputs"]?["runCommand"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "\n")
            let references = script.components(separatedBy: "{{").dropFirst().map { $0.prefix { $0 != "}" } }
            #expect(Set(references) == [" Nonce ", " Params "], "\(entry.reference): \(references)")
        }
    }

    /// SSM filling the parameters gives the inline loader byte for byte (line ends aside): documents mode changes
    /// only how the loader reaches the instance, never what runs or what the guest checks.
    @Test func filledInItIsTheInlineLoader() throws {
        let store = try AgentFixtures.store()
        let params = try LoaderParams.plain([("NewName", .string("APP02"))])
        let inline = try LoaderBuilder.build(store: store, reference: "hostname", params: params, nonce: Self.nonce)
        let doc = try CommandDocument.build(store: store, entry: try store.resolve("hostname"), prefix: "ops-")
        #expect(doc.name == "ops-hostname")
        let values = CommandDocument.parameters(nonce: Self.nonce, params: params)
        #expect(try filled(doc, values) == inline.text.replacingOccurrences(of: "\r\n", with: "\n"))
        // The values SendCommand carries pass their own patterns.
        #expect(values["Nonce"]![0].range(of: CommandDocument.noncePattern, options: .regularExpression) != nil)
        #expect(values["Params"]![0].range(of: CommandDocument.paramsPattern, options: .regularExpression) != nil)
        // A value that would close the single-quoted literal fails them.
        #expect("e30='; Remove-Item C:\\".range(of: CommandDocument.paramsPattern, options: .regularExpression) == nil)
    }

    @Test func refusesNamesSSMRefusesAndATemplateWithItsOwnReferences() throws {
        for bad in ["aws-", "Amazon-", "amzn", "has space-", "x/"] {
            #expect(throws: AgentError.self) { try CommandDocument.name(prefix: bad, payload: "prep") }
        }
        #expect(try CommandDocument.name(prefix: "clonectl-", payload: "prep") == "clonectl-prep")
        let template = Array("# {{ ssm:/secret }} __CLONECTL_PAYLOAD__ __CLONECTL_VERSION__ __CLONECTL_NONCE__ __CLONECTL_MODULE_SHA256__ __CLONECTL_PAYLOAD_SHA256__ __CLONECTL_MODULE_B64__ __CLONECTL_SCRIPT_B64__ __CLONECTL_PARAMS_B64__".utf8)
        #expect(throws: AgentError.self) {
            try CommandDocument.render(name: "clonectl-x", template: template, loaderVersion: "1.0.0", payload: "x",
                                       version: "1.0.0", script: [1], moduleVersion: "1.0.0", module: [2])
        }
    }

    @Test func aDocumentOver64KBIsRefusedBeforeSSMSeesIt() throws {
        let template = Array("__CLONECTL_PAYLOAD__ __CLONECTL_VERSION__ __CLONECTL_NONCE__ __CLONECTL_MODULE_SHA256__ __CLONECTL_PAYLOAD_SHA256__ __CLONECTL_MODULE_B64__ __CLONECTL_SCRIPT_B64__ __CLONECTL_PARAMS_B64__".utf8)
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &rng) }  // gzip cannot shrink it
        #expect(throws: AgentError.self) {
            try CommandDocument.render(name: "clonectl-x", template: template, loaderVersion: "1.0.0", payload: "x",
                                       version: "1.0.0", script: noise, moduleVersion: "1.0.0", module: [2])
        }
    }
}

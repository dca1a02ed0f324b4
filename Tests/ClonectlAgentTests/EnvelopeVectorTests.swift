import Foundation
import Testing
@testable import ClonectlAgent

/// The shared vectors give their verdicts, and the file is exactly what the Swift writer generates.
@Suite struct EnvelopeVectorTests {
    struct FileVector: Sendable, CustomTestStringConvertible {
        let json: JSONValue
        var name: String { json["name"]?.stringValue ?? "?" }
        var testDescription: String { name }
    }

    static func fileVectors() throws -> [FileVector] {
        let data = try Data(contentsOf: AgentFixtures.vectors)
        let root = try JSONParser.parse([UInt8](data))
        return (root["vectors"]?.arrayValue ?? []).map(FileVector.init)
    }

    @Test func fileIsCurrent() throws {
        let generated = EnvelopeVectorCases.fileText()
        if ProcessInfo.processInfo.environment["CLONECTL_WRITE_VECTORS"] == "1" {
            try Data(generated.utf8).write(to: AgentFixtures.vectors)
        }
        let onDisk = try String(contentsOf: AgentFixtures.vectors, encoding: .utf8)
        #expect(onDisk == generated, "envelope-vectors.json is stale: regenerate with CLONECTL_WRITE_VECTORS=1 (see EnvelopeVectorCases)")
        #expect(onDisk.utf8.allSatisfy { $0 < 0x80 }, "the vectors file is pure ASCII")
    }

    @Test func coversEveryVerdict() throws {
        let verdicts = Set(try Self.fileVectors().compactMap { $0.json["expectedVerdict"]?.stringValue })
        #expect(verdicts == Set(Verdict.allCases.map(\.rawValue)))
    }

    @Test(arguments: try fileVectors())
    func vectorGivesItsVerdict(_ vector: FileVector) throws {
        let v = vector.json
        let output = try #require(v["output"]?.stringValue)
        let result = EnvelopeVerifier.verify(output: output, nonce: try #require(v["nonce"]?.stringValue),
                                             payloadSha256: try #require(v["payloadSha256"]?.stringValue))
        #expect(result.verdict.rawValue == v["expectedVerdict"]?.stringValue, "\(vector.name): \(result.reason)")
        if let sha = v["expectedJsonSha256"]?.stringValue { #expect(result.jsonSha256 == sha) }
        if let status = v["expectedStatus"]?.stringValue { #expect(result.envelope?.status.rawValue == status) }
        if result.verdict == .verified || result.verdict == .stale {
            // Writer conformance: the decoded envelope written again gives the received JSON line byte for byte.
            let envelope = try #require(result.envelope)
            let lines = output.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            let jsonLine = try #require(lines.last { $0.hasPrefix("{") })
            #expect(CanonicalJSON.encode(envelope.json) == String(jsonLine))
        }
    }

    @Test func writerStringsMatch() throws {
        let root = try JSONParser.parse([UInt8](try Data(contentsOf: AgentFixtures.vectors)))
        let cases = try #require(root["writerStrings"]?.arrayValue)
        #expect(cases.count == EnvelopeVectorCases.writerStrings.count)
        for c in cases {
            let input = try #require(c["input"]?.stringValue)
            #expect(CanonicalJSON.encode(.string(input)) == c["expected"]?.stringValue)
        }
    }

    @Test func truncationHelperSaysWhenToFetchTheFullOutput() throws {
        let vectors = try Self.fileVectors()
        let cut = try #require(vectors.first { $0.name.hasPrefix("truncated-same-envelope") }?.json["output"]?.stringValue)
        #expect(OutputLimits.mightBeTruncated(cut, limit: OutputLimits.listCommandInvocations))
        #expect(OutputLimits.shouldFetchFullOutput(listOutput: cut, verdict: .truncated))
        // A short output that lost its END line died on the guest: a fuller copy does not exist.
        let short = try #require(vectors.first { $0.name == "truncated-inside-end-line" }?.json["output"]?.stringValue)
        #expect(!OutputLimits.shouldFetchFullOutput(listOutput: short, verdict: .truncated))
        // A verified envelope needs nothing more, however long.
        #expect(!OutputLimits.shouldFetchFullOutput(listOutput: cut + cut, verdict: .verified))
        #expect(!OutputLimits.mightBeTruncated(String(repeating: "x", count: 2499), limit: 2500))
        #expect(OutputLimits.mightBeTruncated(String(repeating: "x", count: 2500), limit: 2500))
        // The SSM Agent cuts Details in UTF-8 bytes: 2,500 bytes of Japanese are about 830 characters, and the
        // envelope after them was lost all the same (amazon-ssm-agent, iohandler.TruncateOutput).
        let japanese = String(repeating: "警告: 時間がかかります。\r\n", count: 70)
        let cutJapanese = String(decoding: Array(japanese.utf8.prefix(2_500 - 23)), as: UTF8.self)
            + "\n---Output truncated---"
        #expect(cutJapanese.count < 1_000 && cutJapanese.utf8.count >= 2_500)
        #expect(OutputLimits.shouldFetchFullOutput(listOutput: cutJapanese, verdict: .missing))
        // A cut marked by the agent is a cut, whatever its length (stderr's part can be short).
        #expect(OutputLimits.mightBeTruncated("BEGIN\n---Output truncated---\n----------ERROR-------\nx",
                                              limit: 2500))
        #expect(!OutputLimits.shouldFetchFullOutput(listOutput: String(repeating: "é", count: 1_000), verdict: .missing))
    }
}

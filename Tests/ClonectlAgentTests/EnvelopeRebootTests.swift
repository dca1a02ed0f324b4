import Foundation
import Testing
@testable import ClonectlAgent

/// After exit 3010 the agent's output holds every run's envelope (the simulator's default now, as the agent does):
/// the final one is judged, and what the runs before the reboot changed stays part of the command's result.
@Suite struct EnvelopeRebootTests {
    static func vector(_ name: String) throws -> JSONValue {
        let root = try JSONParser.parse([UInt8](try Data(contentsOf: AgentFixtures.vectors)))
        return try #require(root["vectors"]?.arrayValue?.first { $0["name"]?.stringValue == name })
    }

    @Test func thePreRebootChangeIsKeptInTheRunResult() throws {
        let v = try Self.vector("verified-last-envelope-wins-after-reboot")
        let result = EnvelopeVerifier.verify(output: try #require(v["output"]?.stringValue),
                                             nonce: try #require(v["nonce"]?.stringValue),
                                             payloadSha256: try #require(v["payloadSha256"]?.stringValue))
        #expect(result.verdict == .verified)
        #expect(result.envelope?.status == .ok && result.envelope?.changed == [], "the final envelope itself is unchanged")
        let run = try #require(result.runEnvelope)
        #expect(run.status == .changed, "ok after a reboot that renamed is a change")
        #expect(run.changed.count == 1 && run.changed[0]["item"]?.stringValue == "computerName")
        #expect(run.changed[0]["to"]?.stringValue == "APP02")
    }

    @Test func anEarlierEnvelopeOfAnotherCommandIsNotCounted() throws {
        let v = try Self.vector("verified-last-envelope-wins-after-reboot")
        let output = try #require(v["output"]?.stringValue)
        let nonce = try #require(v["nonce"]?.stringValue)
        // The first envelope from another command (its nonce differs): its hash no longer matches either way, and
        // even a whole envelope of another nonce must not add its changes.
        let other = output.replacingOccurrences(of: nonce, with: String(repeating: "f", count: 32))
        let lastBegin = try #require(output.range(of: "-----BEGIN", options: .backwards))
        let mixed = String(other[..<other.index(other.startIndex, offsetBy: output.distance(from: output.startIndex, to: lastBegin.lowerBound))])
            + String(output[lastBegin.lowerBound...])
        let result = EnvelopeVerifier.verify(output: mixed, nonce: nonce, payloadSha256: try #require(v["payloadSha256"]?.stringValue))
        #expect(result.verdict == .verified && result.earlierChanged.isEmpty && result.runEnvelope?.status == .ok)
    }

    @Test func withoutAReRunTheRunResultIsTheEnvelope() throws {
        let v = try Self.vector("verified-crlf")
        let result = EnvelopeVerifier.verify(output: try #require(v["output"]?.stringValue),
                                             nonce: try #require(v["nonce"]?.stringValue),
                                             payloadSha256: try #require(v["payloadSha256"]?.stringValue))
        #expect(result.runEnvelope == result.envelope)
    }
}

import Testing
@testable import ClonectlAgent

/// The verifier's two checks beyond the hash: one reading of the JSON line, and the right instance.
@Suite struct EnvelopeHardeningTests {
    @Test func duplicateMembersAreRefused() {
        #expect(throws: AgentError.self) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
        #expect(throws: AgentError.self) { try JSONParser.parse(#"{"x":{"b":true,"b":false}}"#) }
        #expect((try? JSONParser.parse(#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#)) != nil, "the same name in different objects is fine")
    }

    @Test func anEnvelopeWithADuplicateStatusIsTampered() {
        let e = EnvelopeVectorCases.envelope(status: .failed)
        // A second "status" after the real one: a first-wins reader sees failed, a last-wins reader ok.
        var line = CanonicalJSON.encode(e.json)
        line.removeLast()
        line += #","status":"ok"}"#
        let result = EnvelopeVerifier.verify(output: Envelope.wrap(jsonLine: line), nonce: e.nonce, payloadSha256: e.payloadSha256)
        #expect(result.verdict == .tampered)
        #expect(result.reason.contains("appears twice"), "\(result.reason)")
    }

    @Test func theEnvelopeMustNameTheInvocationsInstance() {
        var e = EnvelopeVectorCases.envelope()
        e.instanceId = "i-0aaaaaaaaaaaaaaaa"
        let output = e.render()
        let mine = EnvelopeVerifier.verify(output: output, nonce: e.nonce, payloadSha256: e.payloadSha256,
                                           instanceId: "i-0aaaaaaaaaaaaaaaa")
        #expect(mine.verdict == .verified)
        let other = EnvelopeVerifier.verify(output: output, nonce: e.nonce, payloadSha256: e.payloadSha256,
                                            instanceId: "i-0bbbbbbbbbbbbbbbb")
        #expect(other.verdict == .tampered)
        #expect(other.reason.contains("i-0bbbbbbbbbbbbbbbb") && other.reason.contains("i-0aaaaaaaaaaaaaaaa"))
    }
}

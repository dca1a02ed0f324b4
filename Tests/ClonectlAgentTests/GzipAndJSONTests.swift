import Foundation
import Testing
@testable import ClonectlAgent

@Suite struct GzipTests {
    @Test(arguments: [0, 1, 100, 70_000, 300_000])
    func roundTrip(size: Int) throws {
        var rng = SystemRandomNumberGenerator()
        // Half random, half repetitive: exercises both stored and compressed blocks, and several inflate chunks.
        let bytes = (0..<size).map { i in i % 2 == 0 ? UInt8.random(in: 0...255, using: &rng) : UInt8(i % 7) }
        let packed = try Gzip.compress(bytes)
        #expect(Array(packed.prefix(2)) == [0x1F, 0x8B], "gzip magic, which .NET's GZipStream expects")
        #expect(try Gzip.decompress(packed) == bytes)
    }

    @Test func compressesText() throws {
        let text = Array(String(repeating: "Set-StrictMode -Version Latest\r\n", count: 200).utf8)
        #expect(try Gzip.compress(text).count < text.count / 10)
    }

    @Test func corruptAndTruncatedInputFailClearly() throws {
        let packed = try Gzip.compress(Array("hello, clonectl".utf8))
        let cut = Array(packed.dropLast(6))
        #expect { try Gzip.decompress(cut) } throws: { ($0 as? AgentError)?.kind == .gzip }
        var flipped = packed
        flipped[12] ^= 0xFF
        #expect { try Gzip.decompress(flipped) } throws: { ($0 as? AgentError)?.kind == .gzip }
        #expect { try Gzip.decompress(Array("not gzip".utf8)) } throws: { e in
            "\(e)".contains("inflate failed")
        }
        #expect { try Gzip.decompress(packed + [1, 2, 3]) } throws: { "\($0)".contains("follow the end") }
    }

    @Test func decompressionIsBounded() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        #expect { try Gzip.decompress(try Gzip.compress(zeros), limit: 1000) } throws: { "\($0)".contains("beyond 1000") }
    }
}

@Suite struct JSONTests {
    @Test func parsesInOrderAndTellsIntegersApart() throws {
        let v = try JSONParser.parse(#" {"b": 1, "a": [true, false, null, -0.5, 1e3, "x\u00e9\ud83d\udc4d\/"], "c": {}} "#)
        #expect(v.objectMembers?.map(\.0) == ["b", "a", "c"])
        #expect(v["b"] == .int(1))
        #expect(v["a"] == .array([.bool(true), .bool(false), .null, .number("-0.5"), .number("1e3"), .string("xé👍/")]))
        #expect(v["c"] == .object([]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "01", "\"\t\"", "\"\\x\"", "tru", "{} {}", "{'a':1}", "1.", "-"])
    func refusesInvalid(_ text: String) {
        #expect(throws: AgentError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: AgentError.self) { try JSONParser.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) }
    }

    /// The golden string: the same sample the PowerShell module's writer must produce (envelope.md rules).
    @Test func writerGolden() {
        let value = JSONValue.object([
            ("v", .int(1)), ("s", .string("Tōkyō \"q\" C:\\x\n</a>&'👍\u{7F}\u{01}")), ("n", .int(-42)),
            ("b", .array([.bool(true), .bool(false), .null])), ("o", .object([("k", .string(""))])),
        ])
        #expect(CanonicalJSON.encode(value)
                == #"{"v":1,"s":"T\u014dky\u014d \"q\" C:\\x\n</a>&'\ud83d\udc4d\u007f\u0001","n":-42,"b":[true,false,null],"o":{"k":""}}"#)
    }

    @Test func writerAndParserRoundTrip() throws {
        let text = #"{"a":"\u00e9\ud83d\udc4d\t\"","b":[1,2.5,{"c":null}]}"#
        #expect(CanonicalJSON.encode(try JSONParser.parse(text)) == text)
    }
}

@Suite struct EnvelopeWriterTests {
    /// The golden envelope: what CloneAgent 1.0.0's Format-CloneEnvelope prints for the same members
    /// (member order of the spec table, CRLF after each of the three lines).
    @Test func envelopeGolden() throws {
        let e = Envelope(payload: "time-zone", version: "1.0.0", payloadSha256: String(repeating: "0", count: 64),
                         nonce: "0123456789abcdef0123456789abcdef", instanceId: "unknown", status: .rebootPending,
                         changed: [.object([("item", .string("timeZone")), ("from", .string("UTC")), ("to", .string("Tokyo Standard Time"))])],
                         facts: .object([("offsetMinutes", .int(540)), ("dst", .bool(false)), ("note", .null)]),
                         errors: [], logTail: ["a \"b\" \\ é"], startedAt: "2026-11-28T04:00:00Z", finishedAt: "2026-11-28T04:00:01Z")
        let json = #"{"v":1,"payload":"time-zone","version":"1.0.0","payloadSha256":"0000000000000000000000000000000000000000000000000000000000000000","nonce":"0123456789abcdef0123456789abcdef","instanceId":"unknown","status":"reboot-pending","changed":[{"item":"timeZone","from":"UTC","to":"Tokyo Standard Time"}],"facts":{"offsetMinutes":540,"dst":false,"note":null},"errors":[],"logTail":["a \"b\" \\ \u00e9"],"startedAt":"2026-11-28T04:00:00Z","finishedAt":"2026-11-28T04:00:01Z"}"#
        let expected = "-----BEGIN CLONECTL RESULT v1-----\r\n" + json
            + "\r\n-----END CLONECTL RESULT sha256=" + EnvelopeVectorCases.sha(json) + "-----\r\n"
        #expect(e.render() == expected)
        // Read back: the same envelope, verified.
        let result = EnvelopeVerifier.verify(output: expected, nonce: e.nonce, payloadSha256: e.payloadSha256)
        #expect(result.verdict == .verified && result.envelope == e)
    }

    @Test func aSlimmedEnvelopeKeepsStatusErrorsAndTheNamedFacts() {
        let e = Envelope(payload: "verify", version: "1.0.0", payloadSha256: String(repeating: "0", count: 64),
                         nonce: "0123456789abcdef0123456789abcdef", instanceId: "i-0abc1234def567890", status: .failed,
                         changed: [.object([("item", .string("x"))])],
                         facts: .object([("machineSid", .string("S-1-5-21-1")), ("imageState", .string("IMAGE_STATE_COMPLETE")),
                                         ("firewall", .object([("Domain", .bool(true))]))]),
                         errors: ["host name is WIN-1, expected APP02"], logTail: ["start", "finish"],
                         startedAt: "2026-11-28T04:00:00Z", finishedAt: "2026-11-28T04:00:01Z")
        let slim = e.slimmed(keepingFacts: ["machineSid", "imageState"])
        #expect(slim.status == .failed && slim.errors == e.errors && slim.instanceId == e.instanceId)
        #expect(slim.facts == .object([("machineSid", .string("S-1-5-21-1")), ("imageState", .string("IMAGE_STATE_COMPLETE"))]))
        #expect(slim.changed.isEmpty && slim.logTail.isEmpty)
        #expect(e.slimmed(keepingFacts: []).facts == .object([]))
    }

    @Test func unreadableMembersAreTamperedWithTheMemberNamed() {
        let line = #"{"v":1,"payload":"hostname","status":"done"}"#
        let result = EnvelopeVerifier.verify(output: Envelope.wrap(jsonLine: line), nonce: "", payloadSha256: "")
        #expect(result.verdict == .tampered && result.reason.contains("'status'"))
    }
}

import Foundation
import Testing
import ClonectlAgent
import ClonectlPlan
@testable import ClonectlWorkflow

/// sysprep-logs 1.2.0's whole logs on the controller side: when they are asked for, and what the ledger keeps.
struct WholeSysprepLogsTests {
    @Test func wholeLogsOnlyWithABucketAndVersion120OrNewer() {
        let bucket = Plan.Output(s3Bucket: "b")
        #expect(SysprepStep.sendsWhole(version: "1.2.0", output: bucket))
        #expect(SysprepStep.sendsWhole(version: "1.10.0", output: bucket))
        #expect(!SysprepStep.sendsWhole(version: "1.1.0", output: bucket), "a plan pinning 1.1.0 keeps tails")
        #expect(!SysprepStep.sendsWhole(version: "1.2.0", output: nil))
        #expect(!SysprepStep.sendsWhole(version: "1.2.0", output: Plan.Output(cloudWatchLogGroup: "g")),
                "CloudWatch alone does not bring the envelope back")
    }

    static func envelope(lines: Int) -> Envelope {
        Envelope(payload: "sysprep-logs", version: "1.2.0", payloadSha256: String(repeating: "a", count: 64),
                 nonce: String(repeating: "b", count: 32), instanceId: "i-0abc", status: .ok,
                 facts: .object([("imageState", .string("IMAGE_STATE_COMPLETE")),
                                 ("logs", .array([.object([("path", .string("C:\\setupact.log")),
                                                           ("lines", .array((0..<lines).map { .string("line \($0) " + String(repeating: "x", count: 100)) })),
                                                           ("omitted", .int(0))])])),
                                 ("missing", .array([]))]),
                 logTail: ["t"], startedAt: "2026-12-03T00:00:00Z", finishedAt: "2026-12-03T00:00:01Z")
    }

    @Test func aBigOutputCompletedFromS3KeepsRunCommandsCopyAndAFactlessEnvelope() throws {
        let big = Self.envelope(lines: 2000)
        let whole = String(repeating: "w", count: 300_000)
        let kept = GuestRunner.ledgerCopy(output: whole, apiOutput: "cut copy", envelope: big, stdoutURL: "s3://b/k/stdout")
        #expect(kept.output == "cut copy")
        let json = try JSONParser.parse(try #require(kept.resultJSON))
        #expect(json["status"]?.stringValue == "ok" && json["logTail"] == .array([.string("t")]))
        #expect(json["facts"] == .object([("omittedFacts", .array([.string("imageState"), .string("logs"), .string("missing")])),
                                          ("wholeOutput", .string("s3://b/k/stdout"))]))
        #expect((kept.resultJSON?.utf8.count ?? 0) < 2_000)
    }

    @Test func smallOrNotFromS3OutputsAreKeptWhole() {
        let small = Self.envelope(lines: 3)
        let a = GuestRunner.ledgerCopy(output: "whole", apiOutput: "cut", envelope: small, stdoutURL: "s3://b/k")
        #expect(a.output == "whole" && a.resultJSON == CanonicalJSON.encode(small.json))
        // Not read from S3 (apiOutput nil): as before, whatever its size.
        let big = Self.envelope(lines: 2000)
        let b = GuestRunner.ledgerCopy(output: String(repeating: "w", count: 100_000), apiOutput: nil, envelope: big, stdoutURL: nil)
        #expect(b.output.count == 100_000 && b.resultJSON == CanonicalJSON.encode(big.json))
    }
}

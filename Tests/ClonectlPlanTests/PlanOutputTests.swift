import Testing
import Foundation
@testable import ClonectlPlan

/// `output:` (issue 14): the bucket, prefix and log group SendCommand is given, checked as SendCommand checks them.
@Suite struct PlanOutputTests {
    func plan(_ output: String) throws -> Plan {
        try PlanLoader.parse(PlanLoaderTests.minimal + "\n" + output, file: "plan.yaml")
    }

    func problems(_ output: String) -> String {
        do { _ = try plan(output); return "" } catch { return "\(error)" }
    }

    @Test func outputKeysAreRead() throws {
        let p = try plan("output: {s3Bucket: acme-clonectl-output, s3KeyPrefix: runs/web01/, cloudWatchLogGroup: /clonectl/web01}")
        #expect(p.output == Plan.Output(s3Bucket: "acme-clonectl-output", s3KeyPrefix: "runs/web01/",
                                        cloudWatchLogGroup: "/clonectl/web01"))
        #expect(try plan("").output == nil, "no output: only what Run Command's API returns")
    }

    @Test func badOutputKeysSayWhatToFix() {
        #expect(problems("output: {s3Bucket: Acme_Output}").contains("is not an S3 bucket name"))
        #expect(problems("output: {s3Bucket: ab}").contains("is not an S3 bucket name"))
        #expect(problems("output: {s3Bucket: 192.168.1.1}").contains("is not an S3 bucket name"))
        #expect(problems("output: {s3Bucket: acme, s3KeyPrefix: \(String(repeating: "x", count: 501))}").contains("at most 500"))
        #expect(problems("output: {s3Bucket: acme, s3KeyPrefix: /runs}").contains("leading slash"))
        #expect(problems("output: {s3KeyPrefix: runs/}").contains("s3KeyPrefix needs s3Bucket"))
        #expect(problems("output: {cloudWatchLogGroup: 'bad group!'}").contains("not a CloudWatch Logs group name"))
        #expect(problems("output: {s3bucket: acme}").contains("s3bucket"), "an unknown key is named")
        #expect(Plan.Output(s3KeyPrefix: "x").problems == ["an S3 key prefix needs a bucket"])
    }
}

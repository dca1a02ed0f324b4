import Testing
import Foundation
import TestSupport

/// The least-privilege policy in controller/iam/ allows exactly the API calls the code makes: every operation the
/// EC2, SSM, STS, IAM and S3 clients send is allowed, and nothing else is.
@Suite struct IAMPolicyTests {
    /// Operations found in the client sources: `params("X")`, `QueryParameters(action: "X"`, `call("X"`,
    /// `documentCall("X"`.
    static func operationsInCode() throws -> Set<String> {
        var found = Set<String>()
        let root = TestEnvironment.repoRoot.appendingPathComponent("Sources/AWSCore")
        let services = ["EC2": "ec2", "SSM": "ssm", "STS": "sts", "IAM": "iam"]
        for (folder, prefix) in services {
            let dir = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                let regex = try NSRegularExpression(pattern: #"(?:params\(|action: |[cC]all\()"([A-Z][A-Za-z]+)""#)
                for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    found.insert("\(prefix):\(text[Range(m.range(at: 1), in: text)!])")
                }
            }
        }
        // S3's REST calls (`send("X", method:` in S3/) under the action IAM authorizes them as (Service Authorization
        // Reference: HeadBucket is s3:ListBucket, HeadObject s3:GetObject).
        let s3 = root.appendingPathComponent("S3")
        let authorizedAs = ["HeadBucket": "ListBucket", "HeadObject": "GetObject"]
        for file in try FileManager.default.contentsOfDirectory(atPath: s3.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: s3.appendingPathComponent(file), encoding: .utf8)
            let regex = try NSRegularExpression(pattern: #"send\("([A-Z][A-Za-z]+)", method:"#)
            for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let operation = String(text[Range(m.range(at: 1), in: text)!])
                found.insert("s3:\(authorizedAs[operation] ?? operation)")
            }
        }
        return found
    }

    static func actions(in policy: String) throws -> Set<String> {
        let url = TestEnvironment.repoRoot.appendingPathComponent("controller/iam/\(policy)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        var out = Set<String>()
        // Allowed actions only: a Deny statement (the guard on the opt-in tag) grants nothing.
        for statement in object?["Statement"] as? [[String: Any]] ?? [] where statement["Effect"] as? String == "Allow" {
            if let a = statement["Action"] as? String { out.insert(a) }
            for a in statement["Action"] as? [String] ?? [] { out.insert(a) }
        }
        return out
    }

    /// Called by the client library but not by the controller's workflow: the guest reads secrets itself, and
    /// AssumeRole is granted by the role's trust policy, not by this policy (AssumeRoleWithWebIdentity is unsigned:
    /// no identity policy is involved at all).
    /// CreateDocument and UpdateDocument are `clonectl documents publish`'s, made by a publisher identity, never by
    /// a run.
    static let notControllerCalls: Set<String> = ["ssm:GetParameter", "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity",
                                                  "ssm:CreateDocument", "ssm:UpdateDocument",
                                                  // The S3 client's writes seed buckets in tests; clonectl only reads.
                                                  "s3:PutObject", "s3:CreateBucket"]
    /// Needed for RunInstances with an instance profile, not an API call of its own.
    static let implied: Set<String> = ["iam:PassRole"]

    @Test func controllerPolicyMatchesTheCode() throws {
        let code = try Self.operationsInCode()
        #expect(code.count >= 18, "the scan found the clients' operations: \(code.sorted())")
        #expect(code.contains("ec2:RunInstances") && code.contains("ssm:SendCommand") && code.contains("sts:GetCallerIdentity"))
        #expect(code.contains("s3:GetObject") && code.contains("s3:ListBucket"), "S3 output reads: \(code.sorted())")
        let policy = try Self.actions(in: "controller-policy.json")
        let needed = code.subtracting(Self.notControllerCalls)
        #expect(needed.subtracting(policy).isEmpty, "missing from the policy: \(needed.subtracting(policy).sorted())")
        #expect(policy.subtracting(needed).subtracting(Self.implied).isEmpty,
                "allowed but never called: \(policy.subtracting(needed).subtracting(Self.implied).sorted())")
    }

    /// The publisher policy: exactly the document calls `documents publish` makes, on clonectl documents only; any
    /// document call the SSM client makes (`documentCall("X"`) is in it.
    @Test func publisherPolicyIsTheDocumentCallsOnClonectlDocuments() throws {
        let policy = try Self.actions(in: "publisher-policy.json")
        let publish: Set<String> = ["ssm:CreateDocument", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion",
                                    "ssm:DescribeDocument", "ssm:GetDocument", "ssm:ListDocumentVersions"]
        #expect(policy == publish.union(["sts:GetCallerIdentity"]), "\(policy.sorted())")
        let dir = TestEnvironment.repoRoot.appendingPathComponent("Sources/AWSCore/SSM")
        let regex = try NSRegularExpression(pattern: #"documentCall\("([A-Z][A-Za-z]+)""#)
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let op = "ssm:\(text[Range(m.range(at: 1), in: text)!])"
                #expect(policy.contains(op), "\(op) is called by \(file) but not in publisher-policy.json")
            }
        }
        let text = try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("controller/iam/publisher-policy.json"), encoding: .utf8)
        #expect(text.contains("document/clonectl-*") && !text.contains("\"Resource\": \"*\",\n      \"Action\": \"ssm"))
    }

    @Test func instancePolicyLetsTheGuestReadOnlyClonectlSecrets() throws {
        let policy = try Self.actions(in: "instance-policy.json")
        #expect(policy.contains("ssm:GetParameter"))
        #expect(policy.contains("kms:Decrypt"))
        #expect(!policy.contains("ssm:*") && !policy.contains("*"))
        let text = try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("controller/iam/instance-policy.json"), encoding: .utf8)
        #expect(text.contains("parameter/clonectl/*"))
    }
}

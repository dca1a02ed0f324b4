import Testing
import Foundation
import TestSupport

/// The least-privilege policy in controller/iam/ allows exactly the API calls the code makes: every operation the
/// EC2, SSM and STS clients send is allowed, and nothing else is.
@Suite struct IAMPolicyTests {
    /// Operations found in the client sources: `params("X")`, `QueryParameters(action: "X"`, `call("X"`,
    /// `documentCall("X"`.
    static func operationsInCode() throws -> Set<String> {
        var found = Set<String>()
        let root = TestEnvironment.repoRoot.appendingPathComponent("Sources/AWSCore")
        let services = ["EC2": "ec2", "SSM": "ssm", "STS": "sts"]
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
        return found
    }

    static func actions(in policy: String) throws -> Set<String> {
        let url = TestEnvironment.repoRoot.appendingPathComponent("controller/iam/\(policy)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        var out = Set<String>()
        for statement in object?["Statement"] as? [[String: Any]] ?? [] {
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
                                                  "ssm:CreateDocument", "ssm:UpdateDocument"]
    /// Needed for RunInstances with an instance profile, not an API call of its own.
    static let implied: Set<String> = ["iam:PassRole"]

    @Test func controllerPolicyMatchesTheCode() throws {
        let code = try Self.operationsInCode()
        #expect(code.count >= 18, "the scan found the clients' operations: \(code.sorted())")
        #expect(code.contains("ec2:RunInstances") && code.contains("ssm:SendCommand") && code.contains("sts:GetCallerIdentity"))
        let policy = try Self.actions(in: "controller-policy.json")
        let needed = code.subtracting(Self.notControllerCalls)
        #expect(needed.subtracting(policy).isEmpty, "missing from the policy: \(needed.subtracting(policy).sorted())")
        #expect(policy.subtracting(needed).subtracting(Self.implied).isEmpty,
                "allowed but never called: \(policy.subtracting(needed).subtracting(Self.implied).sorted())")
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

import Testing
import Foundation
import AWSCore
import AWSCredentials

/// The IAM client doctor uses: SimulatePrincipalPolicy's request shape (IAM's `member` lists), its answer read
/// across pages, and the caller ARN -> simulated entity mapping.
@Suite struct IAMClientTests {
    static func page(_ members: String, truncated: Bool, marker: String? = nil) -> String {
        "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><SimulatePrincipalPolicyResult>"
            + "<IsTruncated>\(truncated)</IsTruncated>" + (marker.map { "<Marker>\($0)</Marker>" } ?? "")
            + "<EvaluationResults>\(members)</EvaluationResults></SimulatePrincipalPolicyResult></SimulatePrincipalPolicyResponse>"
    }

    static func member(_ resource: String, _ decision: String, matched: [String] = [], missing: [String] = []) -> String {
        "<member><EvalActionName>ssm:SendCommand</EvalActionName><EvalResourceName>\(resource)</EvalResourceName>"
            + "<EvalDecision>\(decision)</EvalDecision><MatchedStatements>"
            + matched.map { "<member><SourcePolicyId>\($0)</SourcePolicyId><SourcePolicyType>role</SourcePolicyType></member>" }.joined()
            + "</MatchedStatements><MissingContextValues>" + missing.map { "<member>\($0)</member>" }.joined()
            + "</MissingContextValues></member>"
    }

    @Test func simulateSendsMemberListsAndReadsEveryPage() async throws {
        let transport = ScriptedTransport([
            .response(200, Self.page(Self.member("arn:aws:ssm:us-east-1:1:document/clonectl-preflight", "allowed", matched: ["run"]),
                                     truncated: true, marker: "1"), []),
            .response(200, Self.page(Self.member("arn:aws:ec2:us-east-1:1:instance/i-1", "implicitDeny",
                                                 missing: ["ssm:resourceTag/clonectl:source"]), truncated: false), []),
        ])
        let iam = IAMClient(client: try makeClient(.iam, transport))
        let results = try await iam.simulatePrincipalPolicy(
            policySourceArn: "arn:aws:iam::1:role/clonectl-controller", actions: ["ssm:SendCommand"],
            resources: ["arn:aws:ssm:us-east-1:1:document/clonectl-preflight", "arn:aws:ec2:us-east-1:1:instance/i-1"],
            context: [.init(key: "ssm:resourceTag/clonectl:source", values: ["allowed"])])
        #expect(results.count == 2)
        #expect(results[0].allowed && results[0].matchedPolicies == ["run"])
        #expect(!results[1].allowed && results[1].decision == "implicitDeny")
        #expect(results[1].missingContextKeys == ["ssm:resourceTag/clonectl:source"])
        let bodies = transport.sent.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies.count == 2)
        let first = bodies[0]
        for part in ["Action=SimulatePrincipalPolicy", "Version=2010-05-08",
                     "PolicySourceArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fclonectl-controller",
                     "ActionNames.member.1=ssm%3ASendCommand", "ResourceArns.member.2=arn%3Aaws%3Aec2%3Aus-east-1%3A1%3Ainstance%2Fi-1",
                     "ContextEntries.member.1.ContextKeyName=ssm%3AresourceTag%2Fclonectl%3Asource",
                     "ContextEntries.member.1.ContextKeyValues.member.1=allowed", "ContextEntries.member.1.ContextKeyType=string"] {
            #expect(first.contains(part), "\(part) in \(first)")
        }
        #expect(!first.contains("Marker="))
        #expect(bodies[1].contains("Marker=1"))
    }

    @Test func anAnswerWithoutItsResultIsMalformed() async throws {
        let transport = ScriptedTransport([.response(200, "<SimulatePrincipalPolicyResponse/>", [])])
        let iam = IAMClient(client: try makeClient(.iam, transport))
        await #expect(throws: AWSError.self) {
            _ = try await iam.simulatePrincipalPolicy(policySourceArn: "arn:aws:iam::1:user/u", actions: ["ssm:SendCommand"],
                                                      resources: ["*"], context: [])
        }
    }

    @Test func getRoleReadsTheArnWithItsPath() async throws {
        let transport = ScriptedTransport([.response(200, "<GetRoleResponse><GetRoleResult><Role><Arn>arn:aws:iam::1:role/team/clonectl-x</Arn>"
                                                     + "</Role></GetRoleResult></GetRoleResponse>", [])])
        let arn = try await IAMClient(client: try makeClient(.iam, transport)).getRoleArn(name: "clonectl-x")
        #expect(arn == "arn:aws:iam::1:role/team/clonectl-x")
        #expect(String(decoding: transport.sent[0].body, as: UTF8.self).contains("RoleName=clonectl-x"))
    }

    @Test func anInstanceProfilesRoleOrNone() async throws {
        let with = "<GetInstanceProfileResponse><GetInstanceProfileResult><InstanceProfile><InstanceProfileName>p</InstanceProfileName>"
            + "<Roles><member><RoleName>r</RoleName><Arn>arn:aws:iam::1:role/r</Arn></member></Roles></InstanceProfile>"
            + "</GetInstanceProfileResult></GetInstanceProfileResponse>"
        let without = "<GetInstanceProfileResponse><GetInstanceProfileResult><InstanceProfile><InstanceProfileName>p</InstanceProfileName>"
            + "<Roles/></InstanceProfile></GetInstanceProfileResult></GetInstanceProfileResponse>"
        let transport = ScriptedTransport([.response(200, with, []), .response(200, without, []),
                                           .response(200, "<GetInstanceProfileResponse/>", [])])
        let iam = IAMClient(client: try makeClient(.iam, transport))
        #expect(try await iam.getInstanceProfileRoleArn(name: "p") == "arn:aws:iam::1:role/r")
        #expect(try await iam.getInstanceProfileRoleArn(name: "p") == nil)
        await #expect(throws: AWSError.self) { _ = try await iam.getInstanceProfileRoleArn(name: "p") }
        #expect(String(decoding: transport.sent[0].body, as: UTF8.self).contains("InstanceProfileName=p"))
    }

    @Test func theCallersEntity() {
        #expect(RoleARN.entity(ofCaller: "arn:aws:iam::111122223333:user/ops/alice")?.arn == "arn:aws:iam::111122223333:user/ops/alice")
        let assumed = RoleARN.entity(ofCaller: "arn:aws:sts::111122223333:assumed-role/clonectl-controller/session-1")
        #expect(assumed?.arn == "arn:aws:iam::111122223333:role/clonectl-controller" && assumed?.roleName == "clonectl-controller")
        #expect(RoleARN.entity(ofCaller: "arn:aws-us-gov:sts::111122223333:assumed-role/r/s")?.arn == "arn:aws-us-gov:iam::111122223333:role/r")
        #expect(RoleARN.entity(ofCaller: "arn:aws:iam::111122223333:root") == nil)
        #expect(RoleARN.entity(ofCaller: "arn:aws:sts::111122223333:federated-user/bob") == nil)
        #expect(RoleARN.entity(ofCaller: "not an arn") == nil)
    }
}

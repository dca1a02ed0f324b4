import Foundation
import AWSCredentials

/// IAM over the Query protocol, API version 2010-05-08: the policy simulator `doctor` asks whether the caller may
/// send the plan's commands (SSM has no dry run) and whether the instance profiles' roles may do what the guest
/// does, GetRole to learn a role's ARN with its path, GetInstanceProfile to learn a profile's role.
public struct IAMClient: Sendable {
    public let client: AWSClient
    public static let apiVersion = "2010-05-08"

    public init(client: AWSClient) { self.client = client }

    /// One condition key's value(s) for the simulation (IAM does not read a resource's tags: the caller gives them).
    public struct ContextEntry: Sendable, Equatable {
        public var key: String
        public var values: [String]
        public var type: String
        public init(key: String, values: [String], type: String = "string") {
            self.key = key
            self.values = values
            self.type = type
        }
    }

    /// One action on one resource: `allowed`, `implicitDeny` or `explicitDeny`, the policies that decided, and the
    /// context keys a statement wanted but was not given.
    public struct Evaluation: Sendable, Equatable {
        public var action: String
        public var resource: String
        public var decision: String
        public var matchedPolicies: [String]
        public var missingContextKeys: [String]
        public var allowed: Bool { decision == "allowed" }
    }

    /// iam:SimulatePrincipalPolicy for every action on every resource, all pages. `policySourceArn` is a user, group
    /// or role ARN (an assumed role's session ARN is not: see `RoleARN.entity`).
    public func simulatePrincipalPolicy(policySourceArn: String, actions: [String], resources: [String],
                                        context: [ContextEntry]) async throws -> [Evaluation] {
        var marker: String?
        var all: [Evaluation] = []
        var pages = 0
        repeat {
            var p = QueryParameters(action: "SimulatePrincipalPolicy", version: Self.apiVersion)
            p.add("PolicySourceArn", policySourceArn)
            p.addList("ActionNames.member", actions)
            p.addList("ResourceArns.member", resources)
            p.addStructList("ContextEntries.member", context) { s, e in
                s.add("ContextKeyName", e.key)
                s.addList("ContextKeyValues.member", e.values)
                s.add("ContextKeyType", e.type)
            }
            p.add("Marker", marker)
            let root = try await QueryProtocol.call(client: client, parameters: p)
            let (page, next) = try QueryProtocol.read(client, "SimulatePrincipalPolicy") { () throws -> ([Evaluation], String?) in
                guard let r = root.child("SimulatePrincipalPolicyResult") else {
                    throw MissingField("SimulatePrincipalPolicyResult", in: "SimulatePrincipalPolicy answer")
                }
                let found = try r.items("EvaluationResults", element: "member").map { m -> Evaluation in
                    guard let action = m.string("EvalActionName"), let decision = m.string("EvalDecision") else {
                        throw MissingField("EvalActionName/EvalDecision", in: "SimulatePrincipalPolicy answer")
                    }
                    return Evaluation(
                        action: action, resource: m.string("EvalResourceName") ?? "*", decision: decision,
                        matchedPolicies: m.items("MatchedStatements", element: "member").compactMap { $0.string("SourcePolicyId") },
                        missingContextKeys: m.items("MissingContextValues", element: "member").map(\.text))
                }
                let truncated = r.string("IsTruncated") == "true"
                return (found, truncated ? r.string("Marker") : nil)
            }
            all += page
            marker = next
            pages += 1
            // A server that keeps answering IsTruncated would otherwise loop forever.
            if pages > 100 { throw MissingField("an end to the pages (over 100)", in: "SimulatePrincipalPolicy answer") }
        } while marker != nil
        return all
    }

    /// The ARN of the role in an instance profile (an instance profile holds at most one role), nil when it has none.
    public func getInstanceProfileRoleArn(name: String) async throws -> String? {
        var p = QueryParameters(action: "GetInstanceProfile", version: Self.apiVersion)
        p.add("InstanceProfileName", name)
        let root = try await QueryProtocol.call(client: client, parameters: p)
        return try QueryProtocol.read(client, "GetInstanceProfile") {
            guard let profile = root.at("GetInstanceProfileResult/InstanceProfile") else {
                throw MissingField("InstanceProfile", in: "GetInstanceProfile answer")
            }
            return profile.items("Roles", element: "member").first?.string("Arn")
        }
    }

    /// The role's ARN, with its path (arn:aws:iam::111122223333:role/team/NAME).
    public func getRoleArn(name: String) async throws -> String {
        var p = QueryParameters(action: "GetRole", version: Self.apiVersion)
        p.add("RoleName", name)
        let root = try await QueryProtocol.call(client: client, parameters: p)
        return try QueryProtocol.read(client, "GetRole") {
            guard let arn = root.string("GetRoleResult/Role/Arn") else { throw MissingField("Role/Arn", in: "GetRole answer") }
            return arn
        }
    }
}

/// The IAM entity behind a caller's ARN, for the policy simulator.
public enum RoleARN {
    /// A user (or role) ARN as is; `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` as the role's ARN without a path
    /// (`arn:aws:iam::ACCOUNT:role/NAME`) and the role's name, so a caller can ask GetRole for the path; nil for
    /// what the simulator cannot take (the account root, a federated user).
    public static func entity(ofCaller arn: String) -> (arn: String, roleName: String?)? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn" else { return nil }
        let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5])
        if service == "iam", resource.hasPrefix("user/") || resource.hasPrefix("role/") { return (arn, nil) }
        if service == "sts", resource.hasPrefix("assumed-role/") {
            let name = resource.dropFirst("assumed-role/".count).split(separator: "/").first.map(String.init) ?? ""
            guard !name.isEmpty else { return nil }
            return ("arn:\(partition):iam::\(account):role/\(name)", name)
        }
        return nil
    }
}

import AWSCore
import ClonectlAgent
import ClonectlPlan
import ClonectlWorkflow

/// `doctor PLAN`: may the caller send the plan's commands? SSM has no dry run, so IAM's policy simulator is asked
/// (iam:SimulatePrincipalPolicy on the caller's own user or role), with the resources a run sends to: the plan's
/// documents (or AWS-RunPowerShellScript in inline mode), the source with its tags as they are now, and a work copy
/// and a clone as clonectl tags them. The simulator weighs the identity's own policies; an SCP, a permissions
/// boundary or a session policy can still refuse (`doctor --guest` sends the read-only preflight for real).
struct SendPermission {
    let plan: Plan
    let session: AWSSession
    let payloadNames: [String]

    static let label = "permission ssm:SendCommand"

    func check() async -> DoctorReport.Check {
        do {
            return try await simulate()
        } catch let error as AWSError where Self.accessDenied.contains(error.code) {
            return .init(status: .unknown, name: Self.label,
                         detail: "could not ask IAM's policy simulator (\(error.code): \(error.message)): give the controller "
                            + "iam:SimulatePrincipalPolicy on its own identity (statement AskTheSimulatorAboutClonectlIdentities in "
                            + "controller/iam/controller-policy.json), or run `doctor --guest`, which sends the read-only preflight")
        } catch {
            return .init(status: .unknown, name: Self.label, detail: "could not ask IAM's policy simulator: \(error)")
        }
    }

    static let accessDenied: Set<String> = ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]

    func simulate() async throws -> DoctorReport.Check {
        let caller = try await session.sts.getCallerIdentity()
        guard let entity = RoleARN.entity(ofCaller: caller.arn) else {
            return .init(status: .unknown, name: Self.label,
                         detail: "the caller \(caller.arn) is not an IAM user or role (the account root or a federated user): "
                            + "IAM's policy simulator cannot be asked about it; `doctor --guest` sends the read-only preflight")
        }
        let partition = caller.arn.split(separator: ":", maxSplits: 2).dropFirst().first.map(String.init) ?? "aws"
        let region = session.settings.region.name
        let account = caller.account
        let documents: [String]
        switch plan.documents.mode {
        case .documents:
            documents = payloadNames.map { "arn:\(partition):ssm:\(region):\(account):document/\(plan.documents.prefix)\($0)" }
        case .inline:
            documents = ["arn:\(partition):ssm:\(region)::document/AWS-RunPowerShellScript"]
        }
        let instance = { (id: String) in "arn:\(partition):ec2:\(region):\(account):instance/\(id)" }
        let sourceTags = try await session.ec2.describeAllInstances(instanceIds: [plan.source.instanceId]).first?.tags ?? []
        // One simulation per instance: a simulation's context holds one set of resource tags.
        let asks: [(what: String, resources: [String], tags: [(String, String)])] = [
            ("the source", documents + [instance(plan.source.instanceId)], sourceTags.map { ($0.key, $0.value) }),
            ("a work copy", [instance("i-0clonectlworkcopy")], [("clonectl:role", "work-copy")]),
            ("a clone", [instance("i-0clonectlclone0000")], [("clonectl:role", "clone")]),
        ]
        var principal = entity.arn
        var denied: [String] = []
        for ask in asks {
            let context = ask.tags.map { IAMClient.ContextEntry(key: "ssm:resourceTag/\($0.0)", values: [$0.1]) }
            let results: [IAMClient.Evaluation]
            do {
                results = try await session.iam.simulatePrincipalPolicy(
                    policySourceArn: principal, actions: ["ssm:SendCommand"], resources: ask.resources, context: context)
            } catch let error as AWSError where error.code == "NoSuchEntity" && entity.roleName != nil && principal == entity.arn {
                // An assumed role's ARN has no path: ask IAM for the role's whole ARN once, then simulate again.
                principal = try await session.iam.getRoleArn(name: entity.roleName!)
                results = try await session.iam.simulatePrincipalPolicy(
                    policySourceArn: principal, actions: ["ssm:SendCommand"], resources: ask.resources, context: context)
            }
            for r in results where !r.allowed {
                let why = r.decision == "explicitDeny" ? "denied by \(r.matchedPolicies.joined(separator: ", "))"
                    : "no statement allows it" + (r.missingContextKeys.isEmpty ? "" : " (conditions on \(r.missingContextKeys.joined(separator: ", ")))")
                denied.append("\(Self.short(r.resource)) (\(ask.what)): \(why)")
            }
        }
        guard denied.isEmpty else {
            return .init(status: .fail, name: Self.label,
                         detail: "IAM's policy simulator says \(principal) may not send to " + denied.joined(separator: "; ")
                            + ". See controller/iam/controller-policy.json (SendOnlyClonectlDocuments, SendToTheOptedInSource, "
                            + "SendToWhatClonectlLaunched" + (plan.documents.mode == .inline ? ", InlineModeOnlySendAWSRunPowerShellScript" : "") + ")")
        }
        let what = plan.documents.mode == .documents ? "\(documents.count) \(plan.documents.prefix)* documents" : "AWS-RunPowerShellScript"
        return .init(status: .ok, name: Self.label,
                     detail: "allowed for \(principal) (IAM's policy simulator): \(what) to the source, a work copy and a clone; "
                        + "an SCP or permissions boundary is not weighed")
    }

    /// `document/clonectl-preflight` or `instance/i-...`: the ARN's resource part.
    static func short(_ arn: String) -> String {
        arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).last.map(String.init) ?? arn
    }
}

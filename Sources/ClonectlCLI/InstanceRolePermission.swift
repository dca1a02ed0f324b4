import Foundation
import AWSCore
import ClonectlPlan

/// `doctor PLAN`: may the instances do what the guest steps ask of them? The guest reads its secrets itself and
/// the agent uploads output with the instance profile's role, so a role that cannot is found only when a step fails
/// on the instance. IAM's policy simulator is asked for each instance profile the plan involves: the SSM agent's
/// core calls, ssm:GetParameter on the SecureStrings that profile's instances read (the work user's password on the
/// source; a clone's domain credential), and with a plan `output:` s3:PutObject under the prefix and the log
/// group's calls. kms:Decrypt is not asked (which key encrypts a parameter is not known without reading it).
struct InstanceRolePermission {
    let plan: Plan
    let session: AWSSession

    /// What one instance profile's instances need, and who they are.
    struct Needs {
        var who: [String] = []
        var parameters: [String] = []
    }

    static func label(_ profile: String) -> String { "instance profile \(profile)" }

    func checks() async -> [DoctorReport.Check] {
        var byProfile: [(profile: String, needs: Needs)] = []
        func add(_ profile: String, _ who: String, _ parameters: [String]) {
            if let i = byProfile.firstIndex(where: { $0.profile == profile }) {
                byProfile[i].needs.who.append(who)
                byProfile[i].needs.parameters += parameters.filter { !byProfile[i].needs.parameters.contains($0) }
            } else {
                byProfile.append((profile, Needs(who: [who], parameters: parameters)))
            }
        }
        var out: [DoctorReport.Check] = []
        // The source's profile is its own (production's): read from EC2, asked about when IAM lets clonectl read it.
        let source = try? await session.ec2.describeAllInstances(instanceIds: [plan.source.instanceId]).first
        if let arn = source?.iamInstanceProfileArn {
            add(Self.name(ofProfile: arn), "the source", plan.prep.workUser.map { [$0.passwordParameter] } ?? [])
        } else if source != nil {
            out.append(.init(status: .unknown, name: "instance profile of the source",
                             detail: "\(plan.source.instanceId) has no instance profile (managed through Default Host Management "
                                + "Configuration?): check yourself that its role may read "
                                + (plan.prep.workUser.map { $0.passwordParameter } ?? "the plan's parameters")))
        }
        add(Self.name(ofProfile: plan.workCopy.instanceProfile), "the work copy", [])
        for clone in plan.clones {
            add(Self.name(ofProfile: clone.instanceProfile ?? plan.workCopy.instanceProfile), "clone \(clone.name)",
                clone.domain.map { [$0.credentialParameter] } ?? [])
        }
        // Who is asking (for the account and partition of the ARNs), once for every profile.
        let caller: STSClient.CallerIdentity
        do { caller = try await session.sts.getCallerIdentity() } catch {
            return out + byProfile.map { .init(status: .unknown, name: Self.label($0.profile), detail: "could not ask IAM about it: \(error)") }
        }
        for (profile, needs) in byProfile {
            out.append(await check(profile: profile, needs: needs, caller: caller))
        }
        return out
    }

    /// `clonectl-instance` from a name or from `arn:aws:iam::111122223333:instance-profile/path/clonectl-instance`.
    static func name(ofProfile reference: String) -> String {
        guard reference.hasPrefix("arn:") else { return reference }
        return reference.split(separator: "/").last.map(String.init) ?? reference
    }

    func check(profile: String, needs: Needs, caller: STSClient.CallerIdentity) async -> DoctorReport.Check {
        let label = Self.label(profile)
        let who = needs.who.joined(separator: ", ")
        do {
            guard let role = try await session.iam.getInstanceProfileRoleArn(name: profile) else {
                return .init(status: .fail, name: label, detail: "holds no role (for \(who)): add the instance role to it")
            }
            let partition = caller.arn.split(separator: ":", maxSplits: 2).dropFirst().first.map(String.init) ?? "aws"
            let region = session.settings.region.name
            var asks: [(action: String, resources: [String], what: String)] = [
                ("ssm:UpdateInstanceInformation", ["*"], "the SSM agent's core calls"),
                ("ec2messages:GetMessages", ["*"], "the SSM agent's core calls"),
            ]
            for parameter in needs.parameters {
                let path = parameter.hasPrefix("/") ? parameter : "/" + parameter
                asks.append(("ssm:GetParameter", ["arn:\(partition):ssm:\(region):\(caller.account):parameter\(path)"],
                             "read \(parameter)"))
            }
            if let output = plan.output {
                if let bucket = output.s3Bucket {
                    let prefix = (output.s3KeyPrefix ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                    let key = (prefix.isEmpty ? "" : prefix + "/") + "clonectl-doctor-check/stdout"
                    asks.append(("s3:PutObject", ["arn:\(partition):s3:::\(bucket)/\(key)"], "write output to s3://\(bucket)/\(prefix)"))
                }
                if let group = output.cloudWatchLogGroup {
                    asks.append(("logs:PutLogEvents",
                                 ["arn:\(partition):logs:\(region):\(caller.account):log-group:\(group):log-stream:clonectl-doctor-check"],
                                 "stream output to \(group)"))
                }
            }
            var denied: [String] = []
            for ask in asks {
                let results = try await session.iam.simulatePrincipalPolicy(policySourceArn: role, actions: [ask.action],
                                                                           resources: ask.resources, context: [])
                if results.contains(where: { !$0.allowed }) || results.isEmpty { denied.append("\(ask.action) (\(ask.what))") }
            }
            guard denied.isEmpty else {
                return .init(status: .fail, name: label,
                             detail: "IAM's policy simulator says its role \(role) may not " + denied.joined(separator: "; ")
                                + " (for \(who)); see controller/iam/instance-policy.json")
            }
            let did = Array(Set(asks.map(\.what))).sorted().joined(separator: ", ")
            return .init(status: .ok, name: label, detail: "role \(role) may: \(did) (for \(who); kms:Decrypt not asked)")
        } catch let error as AWSError where SendPermission.accessDenied.contains(error.code) {
            return .init(status: .unknown, name: label,
                         detail: "could not ask IAM about it (\(error.code): \(error.message)); the controller policy lets "
                            + "clonectl read clonectl-* profiles and roles only (AskTheSimulatorAboutClonectlIdentities): check yourself that "
                            + "its role allows what controller/iam/instance-policy.json does (for \(who))")
        } catch let error as AWSError where error.code == "NoSuchEntity" {
            return .init(status: .fail, name: label, detail: "does not exist (\(error.message)): create it, or name another in the plan")
        } catch {
            return .init(status: .unknown, name: label, detail: "could not ask IAM about it: \(error)")
        }
    }
}

import Foundation
import AWSCore
import ClonectlAgent
import ClonectlPlan
import ClonectlWorkflow

/// `run --dry-run --check`: after the dry run's list, read-only checks against AWS, as `doctor PLAN --guest` makes
/// them: the plan's source exists in the run's region and its SSM agent is Online, each permission the run needs
/// (EC2 DryRun calls), that the clones' fixed private addresses are free, and the read-only preflight payload
/// on the source. Nothing is changed.
enum DryRunCheck {
    /// One check each into `checks` (printed as they finish in text mode, as doctor's are).
    static func run(plan: Plan, planFile: String, controller: Controller, report checks: DoctorReport) async throws {
        let session = controller.session
        if !Output.isJSON {
            Console.out("")
            Console.out("Checks against AWS (read-only), region \(session.settings.region):")
        }
        func report(_ label: String, _ body: () async throws -> String) async {
            do {
                checks.add(.ok, label, try await body())
            } catch {
                let hint = AWSErrorHints.hint(for: error, region: session.settings.region.name).map { "\n      \($0)" } ?? ""
                checks.add(.fail, label, CLIFailure.describe(error) + hint)
            }
        }
        let source = plan.source.instanceId
        var sourceReachable = false
        await report("source \(source)") {
            guard let i = try await session.ec2.describeAllInstances(instanceIds: [source]).first else {
                throw ValidationFailure("not found in \(session.settings.region.name): check the id and the plan's region:")
            }
            if let holder = i.tag(SourceClaim.runKey), let state = i.tag(SourceClaim.stateKey), !["done", "cleaned"].contains(state) {
                checks.add(.note, "source claim", "\(state) for run \(holder): a run of another ledger would be refused")
            }
            let info = try await session.ssm.describeAllInstanceInformation(
                filters: [InstanceInformationFilter(key: "InstanceIds", values: [source])]).first
            guard let info else {
                throw ValidationFailure("\(i.state), but not managed by SSM: check its instance profile and the SSM agent")
            }
            guard info.pingStatus == "Online" else { throw ValidationFailure("\(i.state), SSM agent \(info.pingStatus ?? "?")") }
            sourceReachable = true
            return "\(i.state), SSM Online, agent \(info.agentVersion ?? "?"), \(info.platformName ?? info.platformType ?? "?")"
        }
        let subnets = Array(Set([plan.workCopy.subnetId] + plan.clones.map(\.subnetId))).sorted()
        await report("subnets") {
            let found = try await session.ec2.describeSubnets(ids: subnets)
            return found.map { "\($0.subnetId) (\($0.vpcId ?? "?"))" }.joined(separator: ", ")
        }
        let groups = Array(Set(plan.workCopy.securityGroupIds + plan.clones.flatMap(\.securityGroupIds))).sorted()
        if !groups.isEmpty {
            await report("security groups") {
                try await session.ec2.describeSecurityGroups(ids: groups).map { "\($0.groupId) (\($0.vpcId ?? "?"))" }
                    .joined(separator: ", ")
            }
        }
        // Fixed clone addresses: RunInstances fails on an address a network interface already holds (an earlier
        // round's clones, a load balancer's interface), after the master image was made. Say so before the run.
        let fixed = Dictionary(grouping: plan.clones.compactMap { c in c.privateIp.map { (subnet: c.subnetId, ip: $0, clone: c.name) } },
                               by: \.subnet)
        if !fixed.isEmpty {
            await report("clone addresses") {
                var taken: [String] = []
                for subnet in fixed.keys.sorted() {
                    let wanted = fixed[subnet] ?? []
                    for use in try await session.ec2.addressesInUse(subnetId: subnet, addresses: wanted.map(\.ip)) {
                        let clone = wanted.first { $0.ip == use.address }?.clone ?? "?"
                        let holder = use.instanceId.map { "instance \($0)" } ?? use.owner.map { "'\($0)'" } ?? "no instance"
                        taken.append("\(use.address) (clone \(clone)) is held by \(use.networkInterfaceId), \(holder)")
                    }
                }
                guard taken.isEmpty else {
                    throw ValidationFailure(taken.joined(separator: "; ") + ": free the address or choose another privateIp")
                }
                let count = fixed.values.reduce(0) { $0 + $1.count }
                return "\(count) fixed address\(count == 1 ? "" : "es") free in \(fixed.count) subnet\(fixed.count == 1 ? "" : "s")"
            }
        }
        for item in await PermissionReport.check(plan: plan, session: session) { checks.add(item.status, item.name, item.detail) }
        if plan.documents.mode == .documents {
            // The guest steps go as clonectl's documents: each must be published with the hash this clonectl builds.
            await report("documents \(plan.documents.prefix)*") {
                try await DoctorCommand.documentsCheck(plan, store: controller.store, session: session)
            }
        }
        if sourceReachable {
            await report("guest preflight (read-only)") {
                guard let outcome = try await controller.guest.with(delivery: plan.delivery).run(payload: "preflight", params: .empty, instanceIds: [source],
                                                                   step: "check:preflight", runId: nil, reuse: false).first else {
                    throw ValidationFailure("preflight gave no result")
                }
                guard outcome.succeeded, let facts = outcome.envelope?.facts else {
                    throw ValidationFailure("\(outcome.status), envelope \(outcome.verdict.rawValue): \(outcome.reason)")
                }
                let blockers = facts["sysprepBlockers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                guard blockers.isEmpty else { throw ValidationFailure("Sysprep blockers on the source: \(blockers.joined(separator: ", "))") }
                let launch = facts["windows"]?["ec2Launch"]
                return "EC2Launch \(launch?["flavour"]?.stringValue ?? "?") \(launch?["version"]?.stringValue ?? ""), no Sysprep blocker"
            }
        }
        let problems = checks.checks.filter { $0.status == .fail }.count
        if !Output.isJSON {
            Console.out(problems == 0 ? "All checks passed; nothing was changed." : "\(problems) check(s) failed; nothing was changed.")
        }
    }
}

struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

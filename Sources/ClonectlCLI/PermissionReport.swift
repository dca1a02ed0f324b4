import AWSCore
import ClonectlPlan
import ClonectlWorkflow

/// `doctor PLAN`'s permission check: every call the run will make that can be asked about without acting (EC2's
/// DryRun, SSM's read calls) is asked about; the rest are named as not checkable.
enum PermissionReport {
    /// One check per permission (allowed, missing, or not known), then a note on what cannot be asked about.
    static func check(plan: Plan, session: AWSSession) async -> [DoctorReport.Check] {
        let ec2 = session.ec2
        let source = plan.source.instanceId
        let image = (try? await ec2.describeAllInstances(instanceIds: [source]).first?.imageId) ?? nil
        var probes: [(String, () async -> PermissionVerdict)] = [
            ("ec2:StopInstances", { await ec2.checkPermission("StopInstances") { $0.addList("InstanceId", [source]) } }),
            ("ec2:StartInstances", { await ec2.checkPermission("StartInstances") { $0.addList("InstanceId", [source]) } }),
            ("ec2:CreateImage", { await ec2.checkPermission("CreateImage") { p in
                p.add("InstanceId", source)
                p.add("Name", "clonectl-doctor-permission-check")
                // As ImageMaker sends it: the run's tags on the image and on its snapshots (both required by the policy).
                runTags(&p, ["image", "snapshot"], role: "source", plan: plan.name)
            } }),
            ("ec2:CreateTags", { await ec2.checkPermission("CreateTags") { p in
                p.addList("ResourceId", [source])
                // The claim's own key: the policy lets clonectl write only clonectl:run and clonectl:state on a source.
                p.addStructList("Tag", [EC2Tag(SourceClaim.stateKey, "doctor-check")]) { s, t in s.add("Key", t.key); s.add("Value", t.value) }
            } }),
            // The read calls: DescribeInstances is asked above (through the source's image); these answer DryRun.
            ("ec2:DescribeImages", { await ec2.checkPermission("DescribeImages") { $0.addList("Owner", ["self"]) } }),
            ("ec2:DescribeSnapshots", { await ec2.checkPermission("DescribeSnapshots") { $0.addList("Owner", ["self"]) } }),
            ("ec2:DescribeTags", { await ec2.checkPermission("DescribeTags") { $0.add("MaxResults", 5) } }),
            ("ec2:DescribeNetworkInterfaces", { await ec2.checkPermission("DescribeNetworkInterfaces") { p in
                p.add("Filter.1.Name", "subnet-id")
                p.add("Filter.1.Value.1", plan.workCopy.subnetId)
            } }),
            ("ssm:ListCommands", { await readProbe { _ = try await session.ssm.listCommands(maxResults: 1) } }),
            ("ssm:ListCommandInvocations", { await readProbe { _ = try await session.ssm.listCommandInvocations(maxResults: 1) } }),
        ]
        if let image {
            // RunInstances' dry run also checks iam:PassRole for the instance profile.
            probes.append(("ec2:RunInstances + iam:PassRole", { await ec2.checkPermission("RunInstances") { p in
                p.add("ImageId", image)
                p.add("InstanceType", plan.workCopy.instanceType ?? "m5.large")
                p.add("MinCount", 1)
                p.add("MaxCount", 1)
                p.add("SubnetId", plan.workCopy.subnetId)
                p.add(plan.workCopy.instanceProfile.hasPrefix("arn:") ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name",
                      plan.workCopy.instanceProfile)
                runTags(&p, ["instance"], role: "work-copy", plan: plan.name)
            } }))
        }
        var checks: [DoctorReport.Check] = []
        for (name, probe) in probes {
            let label = "permission \(name)"
            switch await probe() {
            case .allowed: checks.append(.init(status: .ok, name: label, detail: "allowed"))
            case .denied(let why): checks.append(.init(status: .fail, name: label, detail: "missing: \(why)"))
            case .unknown(let why): checks.append(.init(status: .unknown, name: label, detail: "could not tell: \(why)"))
            }
        }
        checks.append(.init(status: .note, name: "not checkable without acting",
                            detail: "ssm:GetCommandInvocation, "
                                + "ssm:CancelCommand, ec2:TerminateInstances, ec2:DeregisterImage, ec2:DeleteSnapshot "
                                + "(see controller/iam/controller-policy.json; ssm:SendCommand is asked of IAM's policy simulator "
                                + "below; `doctor --guest` sends the read-only preflight)"))
        return checks
    }

    /// The tags a run puts on what CreateImage and RunInstances create: the controller policy allows those calls only
    /// with them (aws:RequestTag), so a probe without them would be refused where the run is not.
    static func runTags(_ p: inout QueryParameters, _ resourceTypes: [String], role: String, plan: String) {
        let tags = [EC2Tag("clonectl:run", "doctor-check"), EC2Tag("clonectl:plan", plan), EC2Tag("clonectl:role", role)]
        p.addStructList("TagSpecification", resourceTypes) { s, type in
            s.add("ResourceType", type)
            s.addStructList("Tag", tags) { t, tag in t.add("Key", tag.key); t.add("Value", tag.value) }
        }
    }

    static func readProbe(_ call: () async throws -> Void) async -> PermissionVerdict {
        do {
            try await call()
            return .allowed
        } catch let error as AWSError where ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"].contains(error.code) {
            return .denied(error.message)
        } catch {
            return .unknown("\(error)")
        }
    }
}

/// A label padded to a column of 34, never cut.
func column(_ label: String, width: Int = 34) -> String {
    label.count >= width ? label + " " : label.padding(toLength: width, withPad: " ", startingAt: 0)
}

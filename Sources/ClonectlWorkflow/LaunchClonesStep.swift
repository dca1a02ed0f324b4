import AWSCore
import ClonectlPlan

/// Launches every clone from the master AMI (one client token each, a few at once), then waits until all are
/// managed by SSM (fleet waits: one describe call per 200 instances, one agent query per 50).
/// Undo: terminate the clones.
public struct LaunchClonesStep: WorkflowStep {
    public let name = StepName.launchClones
    let services: StepServices
    public init(services: StepServices) { self.services = services }

    public func describe(plan: Plan, state: RunState) -> [String] {
        plan.clones.map { c in
            "ec2 RunInstances \(c.name) from \(state.masterImageId ?? "the master image") in \(c.subnetId)\(c.privateIp.map { " at \($0)" } ?? ""), client token per clone"
        } + ["wait until every clone is running and its SSM agent is Online"]
    }

    /// RunInstances calls in flight at once (each clone has its own subnet, address and tags, so its own call).
    static let launchesInFlight = 4

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard let image = state.masterImageId else {
            throw WorkflowError.precondition("no master image yet: run the master-image step first")
        }
        let launcher = InstanceLauncher(services: services)
        let plan = context.plan
        let pending = plan.clones.filter { state.clones[$0.name] == nil }
        // A few launches at once (a crash relaunches nothing: each clone's client token returns its instance).
        try await withThrowingTaskGroup(of: (String, String).self) { tasks in
            var next = pending.makeIterator()
            func launchNext() {
                guard let clone = next.next() else { return }
                let input = Self.input(clone, plan: plan, image: image, runId: context.runId)
                tasks.addTask {
                    (clone.name, try await launcher.launch(input, purpose: "clone-\(clone.name)", step: name, context: context))
                }
            }
            for _ in 0..<Self.launchesInFlight { launchNext() }
            var unsaved = 0
            while let (clone, id) = try await tasks.next() {
                state.clones[clone] = id
                unsaved += 1
                // Every id is in the ledger's resources already; the run state is saved every 25 (a fleet's state is
                // large), and a relaunch after a crash gets the same instance back through its client token.
                if unsaved >= 25 {
                    try context.checkpoint(state)
                    unsaved = 0
                }
                context.progress(name, "\(clone): \(id)")
                launchNext()
            }
            try context.checkpoint(state)
        }
        let ids = plan.clones.compactMap { state.clones[$0.name] }
        try await launcher.waitUntilManaged(ids, step: name, context: context)
    }

    static func input(_ clone: Plan.Clone, plan: Plan, image: String, runId: String) -> RunInstancesInput {
        var input = RunInstancesInput(imageId: image, instanceType: clone.instanceType ?? plan.workCopy.instanceType ?? "m5.large")
        input.subnetId = clone.subnetId
        input.privateIpAddress = clone.privateIp
        input.securityGroupIds = clone.securityGroupIds
        input.iamInstanceProfile = clone.instanceProfile ?? plan.workCopy.instanceProfile
        let tags = clone.tags.sorted { $0.key < $1.key }.map { EC2Tag($0.key, $0.value) }
            + RunTags.tags(runId: runId, plan: plan.name, role: "clone")
            + [EC2Tag("Name", clone.name), EC2Tag("clonectl:clone", clone.name)]
        input.tagSpecifications = [EC2TagSpecification(resourceType: "instance", tags: tags)]
        return input
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        let ids = state.clones.values.sorted()
        guard !ids.isEmpty else { return }
        try await OwnedResources(ec2: services.ec2).terminate(ids, roles: ["clone"], context: context)
    }
}

import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Prepares the live source, changing it as little as possible: by default only its jobs are stopped (clones must not
/// boot with production jobs enabled). The access aids, the work user and the firewall change, go to the isolated
/// work copy instead (WorkCopyPrepStep), unless the plan says `prep.accessAidsOn: source`. Each payload records what
/// was there first in the guest journal, which travels into the images.
public struct PrepStep: WorkflowStep {
    public let name = StepName.prep
    let call: GuestCall
    let services: StepServices?
    public init(guest: GuestRunner, services: StepServices? = nil) {
        call = GuestCall(guest: guest)
        self.services = services
    }

    public func describe(plan: Plan, state: RunState) -> [String] {
        let calls = Self.sourceCalls(plan)
        return calls.isEmpty ? ["nothing on the source (no jobs to stop)"]
            : calls.map { "guest \($0.0) on \(plan.source.instanceId)" }
    }

    /// The access aids: the work user, then the firewall change.
    static func accessAids(_ plan: Plan) -> [(String, [(String, JSONValue)])] {
        var out: [(String, [(String, JSONValue)])] = []
        if let w = plan.prep.workUser {
            out.append(("work-user", [("UserName", .string(w.name)), ("PasswordParameter", .string(w.passwordParameter))]))
        }
        if !plan.prep.firewallProfiles.isEmpty {
            out.append(("firewall-off", [("Profiles", .array(plan.prep.firewallProfiles.map(JSONValue.string)))]))
        }
        return out
    }

    static func jobsStop(_ plan: Plan) -> [(String, [(String, JSONValue)])] {
        guard !plan.prep.tasks.isEmpty || !plan.prep.services.isEmpty else { return [] }
        return [("jobs-stop", [("Tasks", .array(plan.prep.tasks.map(JSONValue.string))),
                               ("Services", .array(plan.prep.services.map(JSONValue.string)))])]
    }

    /// What runs on the live source, in order.
    static func sourceCalls(_ plan: Plan) -> [(String, [(String, JSONValue)])] {
        (plan.prep.accessAidsOn == .source ? accessAids(plan) : []) + jobsStop(plan)
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        for (payload, params) in Self.sourceCalls(context.plan) {
            try await call.require(payload, try LoaderParams.plain(params), on: [state.sourceInstanceId], step: name, context: context)
        }
    }

    /// Undone by the journal: `source-restore` puts back what prep changed on the source. Normally the restore-source
    /// step does that; when a run is undone before it ran (`--on-error cleanup`, `cleanup --all`), this does, once
    /// the source is running again (the stop-source undo, which runs before this one, started it). The payload skips
    /// what the journal says is already restored, so running it after restore-source changes nothing.
    public func cleanup(_ context: StepContext, _ state: RunState) async throws {
        guard !Self.sourceCalls(context.plan).isEmpty, let services else { return }
        let id = state.sourceInstanceId
        // Already put back by restore-source (a verified source-restore on the source): nothing to do, and the live
        // source is not sent another command.
        let restored = try context.ledger.commands(runId: context.runId, step: StepName.restoreSource.rawValue)
            .filter { $0.payload == "source-restore" }
            .contains { c in try context.ledger.invocations(commandId: c.commandId)
                .contains { $0.instanceId == id && $0.status == "Success" && $0.verdict == "verified" } }
        if restored { return }
        guard let source = try await services.ec2.describeAllInstances(instanceIds: [id]).first,
              source.stateName == .running || source.stateName == .pending else {
            throw WorkflowError.precondition("the source \(id) is not running, so what prep changed on it could not be put back: "
                                             + "start it, then run `clonectl step source-restore --instance \(id)`")
        }
        try await InstanceLauncher(services: services).waitUntilManaged([id], step: name, context: context)
        try await call.require("source-restore", .empty, on: [id], step: name, context: context)
    }
}

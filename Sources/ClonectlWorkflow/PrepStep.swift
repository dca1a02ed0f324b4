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
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

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

    /// The undo of prep is the restore-source step's job (it reads the journal); nothing else to do here.
    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Prepares the live source: work user, firewall off, jobs stopped; each payload records what was there first in the
/// guest journal, which travels into the image.
public struct PrepStep: WorkflowStep {
    public let name = StepName.prep
    let call: GuestCall
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

    public func describe(plan: Plan, state: RunState) -> [String] {
        Self.calls(plan).map { "guest \($0.0) on \(plan.source.instanceId)" }
    }

    static func calls(_ plan: Plan) -> [(String, [(String, JSONValue)])] {
        var out: [(String, [(String, JSONValue)])] = []
        if let w = plan.prep.workUser {
            out.append(("work-user", [("UserName", .string(w.name)), ("PasswordParameter", .string(w.passwordParameter))]))
        }
        if !plan.prep.firewallProfiles.isEmpty {
            out.append(("firewall-off", [("Profiles", .array(plan.prep.firewallProfiles.map(JSONValue.string)))]))
        }
        if !plan.prep.tasks.isEmpty || !plan.prep.services.isEmpty {
            out.append(("jobs-stop", [("Tasks", .array(plan.prep.tasks.map(JSONValue.string))),
                                      ("Services", .array(plan.prep.services.map(JSONValue.string)))]))
        }
        return out
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        for (payload, params) in Self.calls(context.plan) {
            try await call.require(payload, try LoaderParams.plain(params), on: [state.sourceInstanceId], step: name, context: context)
        }
    }

    /// The undo of prep is the restore-source step's job (it reads the journal); nothing else to do here.
    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

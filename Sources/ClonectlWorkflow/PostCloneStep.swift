import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Sets again on every clone what Sysprep reset or prep changed: host name (across its 3010 reboot), time zone,
/// firewall, work user, the optional domain join, then jobs (after the join, so domain-account services start). One command per payload for up to 50 clones, each clone's
/// own values carried in the per-instance parameter map.
public struct PostCloneStep: WorkflowStep {
    public let name = StepName.postClone
    let call: GuestCall
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

    /// The guest steps in order, each with the clones it applies to and their parameters.
    /// `placeholders`: name clones not launched yet `<name>` (for the dry run) instead of leaving them out.
    static func calls(_ plan: Plan, _ state: RunState, placeholders: Bool = false) -> [(payload: String, byInstance: [(String, [(String, JSONValue)])])] {
        let clones = plan.clones.compactMap { c in (state.clones[c.name] ?? (placeholders ? "<\(c.name)>" : nil)).map { (c, $0) } }
        var out: [(String, [(String, [(String, JSONValue)])])] = []
        out.append(("hostname", clones.map { ($0.1, [("NewName", .string($0.0.hostName))]) }))
        let zoned = clones.filter { $0.0.timeZone != nil }
        if !zoned.isEmpty { out.append(("time-zone", zoned.map { ($0.1, [("TimeZoneId", .string($0.0.timeZone!))]) })) }
        let everyone = clones.map { ($0.1, [(String, JSONValue)]()) }
        if plan.postClone.restoreFirewall, !plan.prep.firewallProfiles.isEmpty { out.append(("firewall-restore", everyone)) }
        if plan.postClone.disableWorkUser, plan.prep.workUser != nil { out.append(("work-user-disable", everyone)) }
        let joining = clones.filter { $0.0.domain != nil }
        if !joining.isEmpty {
            out.append(("domain-join", joining.map { c, id in
                var p: [(String, JSONValue)] = [("DomainName", .string(c.domain!.name)),
                                                ("CredentialParameter", .string(c.domain!.credentialParameter))]
                if let ou = c.domain!.ouPath { p.append(("OUPath", .string(ou))) }
                return (id, p)
            }))
        }
        // After domain-join: services that log on as domain accounts can only start once the clone is a member
        // (review D4); jobs-restore also goes on past one that fails and reports each.
        if plan.postClone.restoreJobs, !(plan.prep.tasks.isEmpty && plan.prep.services.isEmpty) { out.append(("jobs-restore", everyone)) }
        return out
    }

    public func describe(plan: Plan, state: RunState) -> [String] {
        Self.calls(plan, state, placeholders: true).map { call in
            "guest \(call.payload) on \(call.byInstance.map(\.0).joined(separator: ", ")) (one command per 50 clones)"
        }
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard !state.clones.isEmpty else { throw WorkflowError.precondition("no clones yet: run launch-clones first") }
        for call in Self.calls(context.plan, state) where !call.byInstance.isEmpty {
            let params = try LoaderParams.perInstance(common: [], byInstance: call.byInstance)
            try await self.call.require(call.payload, params, on: call.byInstance.map(\.0), step: name, context: context,
                                        rateControl: GuestCall.rateControl(context.plan), retainFacts: [])
        }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Checks every clone: settings as planned, ImageState complete, and a machine SID different from the source's.
public struct VerifyStep: WorkflowStep {
    public let name = StepName.verify
    let call: GuestCall
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

    public func describe(plan: Plan, state: RunState) -> [String] {
        ["guest verify on every clone (host name, time zone, firewall, work user, jobs, ImageState, SID differs from the source's and from every other clone's)"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        let clones = context.plan.clones.compactMap { c in state.clones[c.name].map { (c, $0) } }
        let byInstance: [(String, [(String, JSONValue)])] = clones.map { c, id in
            var p: [(String, JSONValue)] = [("ExpectedHostName", .string(c.hostName))]
            if let tz = c.timeZone { p.append(("ExpectedTimeZoneId", .string(tz))) }
            return (id, p)
        }
        let outcomes = try await call.require("verify", try LoaderParams.perInstance(common: [], byInstance: byInstance),
                                              on: clones.map(\.1), step: name, context: context,
                                              rateControl: GuestCall.rateControl(context.plan),
                                              retainFacts: ["machineSid", "imageState"])
        var problems: [String] = []
        // Each clone must have its own SID too: Sysprep's specialize pass makes one per machine, so a shared SID
        // means clones came up from a disk that was never generalized (or were copied after their first boot).
        var bySid: [String: [String]] = [:]
        for outcome in outcomes {
            if let sid = outcome.envelope?.facts["machineSid"]?.stringValue { bySid[sid, default: []].append(outcome.instanceId) }
        }
        for (sid, ids) in bySid.sorted(by: { $0.key < $1.key }) where ids.count > 1 {
            problems.append("\(ids.sorted().joined(separator: ", ")) share the machine SID \(sid): each clone needs its own (Sysprep's specialize pass did not run on them)")
        }
        for outcome in outcomes {
            let facts = outcome.envelope?.facts
            if let source = state.sourceMachineSid, let sid = facts?["machineSid"]?.stringValue, sid == source {
                problems.append("\(outcome.instanceId) has the source's machine SID \(sid): Sysprep did not generalize it")
            }
            if let imageState = facts?["imageState"]?.stringValue, imageState != "IMAGE_STATE_COMPLETE" {
                problems.append("\(outcome.instanceId) reports ImageState \(imageState)")
            }
        }
        guard problems.isEmpty else { throw WorkflowError.guest(problems.joined(separator: "\n")) }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

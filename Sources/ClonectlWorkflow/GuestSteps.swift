import AWSCore
import ClonectlAgent
import ClonectlPlan

/// What guest steps share: running one payload on some instances and insisting on verified success.
struct GuestCall: Sendable {
    let guest: GuestRunner

    /// Runs `payload` on `instanceIds` (in commands of at most 50) and throws, naming each instance and why, unless
    /// every one answered with a verified ok/changed envelope.
    @discardableResult
    func require(_ payload: String, _ params: LoaderParams, on instanceIds: [String], step: StepName,
                 context: StepContext) async throws -> [GuestOutcome] {
        var all: [GuestOutcome] = []
        for start in stride(from: 0, to: instanceIds.count, by: SSMClient.maxInstancesPerCommand) {
            let group = Array(instanceIds[start..<min(start + SSMClient.maxInstancesPerCommand, instanceIds.count)])
            let outcomes = try await guest.run(payload: payload, params: params, instanceIds: group, step: step.rawValue,
                                               runId: context.runId) { line in context.progress(step, "\(payload): \(line)") }
            all += outcomes
        }
        let failed = all.filter { !$0.succeeded }
        guard failed.isEmpty else {
            let reasons = failed.map { o in
                let errors = o.envelope?.errors.joined(separator: "; ") ?? ""
                return "\(o.instanceId): \(o.status)\(o.statusDetails.map { " (\($0))" } ?? ""), envelope \(o.verdict.rawValue): \(errors.isEmpty ? o.reason : errors)"
            }
            throw WorkflowError.guest("\(payload) did not succeed on \(failed.count) instance(s):\n  " + reasons.joined(separator: "\n  ")
                                      + "\n  see `clonectl show \(failed[0].commandId)` for the full output")
        }
        return all
    }
}

/// Read-only report on the source: what would block cloning or Sysprep. Records the source's machine SID.
public struct PreflightStep: WorkflowStep {
    public let name = StepName.preflight
    let call: GuestCall
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

    public func describe(plan: Plan, state: RunState) -> [String] {
        ["guest preflight on \(plan.source.instanceId) (read-only: Sysprep blockers, EC2Launch, SID)"]
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        let outcome = try await call.require("preflight", .empty, on: [state.sourceInstanceId], step: name, context: context)
        let facts = outcome.first?.envelope?.facts
        // Facts as agent-docs/preflight.md documents them.
        state.sourceMachineSid = facts?["windows"]?["machineSid"]?.stringValue
        let blockers = facts?["sysprepBlockers"]?.arrayValue?.map { b in
            "\(b["id"]?.stringValue ?? "?"): \(b["reason"]?.stringValue ?? "")"
        } ?? []
        guard blockers.isEmpty else {
            throw WorkflowError.precondition("the source has what blocks Sysprep: \(blockers.joined(separator: "; ")); fix it on the source and run again")
        }
    }

    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

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

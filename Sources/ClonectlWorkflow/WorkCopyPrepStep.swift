import AWSCore
import ClonectlAgent
import ClonectlPlan

/// Applies the access aids, the work user and the firewall change, to the isolated work copy (after launch, before
/// Sysprep) instead of to the live source: the source keeps its firewall on and gets no extra administrator, while
/// the work copy, a copy of the source's disk, records the same prior state in its guest journal. That journal goes
/// into the master image, so every clone restores exactly what the source had. With `prep.accessAidsOn: source`
/// the aids were applied on the source by PrepStep and this step does nothing.
public struct WorkCopyPrepStep: WorkflowStep {
    public let name = StepName.workCopyPrep
    let call: GuestCall
    public init(guest: GuestRunner) { call = GuestCall(guest: guest) }

    public func describe(plan: Plan, state: RunState) -> [String] {
        guard plan.prep.accessAidsOn == .workCopy else { return ["nothing: the plan puts the access aids on the source"] }
        let calls = PrepStep.accessAids(plan)
        return calls.isEmpty ? ["nothing: the plan has no work user or firewall change"]
            : calls.map { "guest \($0.0) on \(state.workCopyInstanceId ?? "the work copy")" }
    }

    public func run(_ context: StepContext, _ state: inout RunState) async throws {
        guard context.plan.prep.accessAidsOn == .workCopy else { return }
        let calls = PrepStep.accessAids(context.plan)
        guard !calls.isEmpty else { return }
        guard let id = state.workCopyInstanceId else {
            throw WorkflowError.precondition("no work copy yet: run launch-work-copy first")
        }
        for (payload, params) in calls {
            try await call.require(payload, try LoaderParams.plain(params), on: [id], step: name, context: context)
        }
    }

    /// The work copy is terminated by its own step's undo; nothing to restore on it.
    public func cleanup(_ context: StepContext, _ state: RunState) async throws {}
}

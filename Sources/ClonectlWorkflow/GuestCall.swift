import AWSCore
import ClonectlAgent
import ClonectlPlan

/// What guest steps share: running one payload on some instances and insisting on verified success.
struct GuestCall: Sendable {
    let guest: GuestRunner

    /// The plan's Run Command rate controls, for the steps that go to every clone.
    static func rateControl(_ plan: Plan) -> RateControl {
        RateControl(maxConcurrency: plan.postClone.maxConcurrency, maxErrors: plan.postClone.maxErrors)
    }

    /// Runs `payload` on `instanceIds` (in commands of at most 50, all at once) and throws, naming each instance
    /// and why, unless every one answered with a verified ok/changed envelope.
    @discardableResult
    func require(_ payload: String, _ params: LoaderParams, on instanceIds: [String], step: StepName,
                 context: StepContext, rateControl: RateControl = .none,
                 retainFacts: Set<String>? = nil) async throws -> [GuestOutcome] {
        let named = instanceIds.count == 1 ? instanceIds[0] : "\(instanceIds.count) instances"
        let all = try await context.waiting(step, for: "\(payload) on \(named)", limit: guest.polling.overallTimeout) {
            // The plan may pin a released version (`payloads:`); otherwise the latest runs.
            try await guest.with(delivery: context.plan.delivery).run(payload: context.plan.payloadReference(payload), params: params, instanceIds: instanceIds, step: step.rawValue,
                                runId: context.runId, reuse: !context.rerun, rateControl: rateControl,
                                retainFacts: retainFacts) { line in
                context.progress(step, "\(payload): \(line)")
            }
        }
        let failed = all.filter { !$0.succeeded }
        guard failed.isEmpty else {
            let reasons = failed.map { o in
                let errors = o.envelope?.errors.joined(separator: "; ") ?? ""
                return "\(o.instanceId): \(o.status)\(o.statusDetails.map { " (\($0))" } ?? ""), envelope \(o.verdict.rawValue): \(errors.isEmpty ? o.reason : errors)"
            }
            // A fleet's failures are listed up to a screenful; the ledger has every one.
            let shown = reasons.prefix(20).joined(separator: "\n  ")
                + (reasons.count > 20 ? "\n  ... and \(reasons.count - 20) more (clonectl history --step \(step.rawValue))" : "")
            throw WorkflowError.guest("\(payload) did not succeed on \(failed.count) of \(all.count) instance(s):\n  " + shown
                                      + "\n  see `clonectl show \(failed[0].commandId)` for the full output")
        }
        return all
    }
}

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
                                               runId: context.runId, reuse: !context.rerun) { line in
                context.progress(step, "\(payload): \(line)")
            }
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

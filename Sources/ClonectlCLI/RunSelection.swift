import ClonectlLedger

/// Which run `clonectl run PLAN` acts on, decided from the plan's newest run alone (pure, so it is tested without I/O).
///
/// A finished plan is not started over: re-running it would prepare and stop the production source again and launch
/// clones onto the same private addresses. Only `--new` starts another round. A cleaned run's images and instances
/// are gone, so it is never resumed, not even by `--rerun`.
enum RunSelection: Equatable {
    /// No run yet, or `--new`.
    case start
    /// An unfinished run (running, interrupted, failed), or a finished one with `--rerun`.
    case resume(RunRecord)
    /// The newest run succeeded: nothing to do (exit 0).
    case alreadyDone(RunRecord)
    /// The newest run was undone by cleanup: refuse (exit 1) and name `--new`.
    case cleaned(RunRecord)

    static func decide(latest: RunRecord?, new: Bool, rerun: Bool) -> RunSelection {
        guard !new, let latest else { return .start }
        switch latest.status {
        case "cleaned": return .cleaned(latest)
        case "succeeded": return rerun ? .resume(latest) : .alreadyDone(latest)
        default: return .resume(latest)
        }
    }

    /// What the operator reads for the two refusals.
    var message: String? {
        switch self {
        case .alreadyDone(let r):
            return "plan \(r.planName) already done in \(r.id) (finished at \(r.finishedAt ?? r.updatedAt)); `--new` starts another round"
        case .cleaned(let r):
            return "\(r.id), the newest run of plan \(r.planName), was cleaned up at \(r.finishedAt ?? r.updatedAt): its images "
                + "and instances are gone, so it cannot be resumed or re-run; `--new` starts another round"
        case .start, .resume: return nil
        }
    }
}

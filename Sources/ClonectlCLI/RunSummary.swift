import Foundation
import ClonectlLedger
import ClonectlWorkflow

/// The end of a run: what was made, each step's verdict, and where the ledger is.
enum RunSummary {
    static func print(run: RunRecord, state: RunState, ledger: Ledger, format: OutputFormat) {
        let steps = (try? ledger.steps(runId: run.id)) ?? []
        switch format {
        case .json:
            var object: [String: Any] = [
                "run": run.id, "plan": run.planName, "status": run.status, "ledger": ledger.path,
                "steps": steps.map { ["name": $0.name, "status": $0.status] },
                "clones": state.clones,
            ]
            object["sourceImageId"] = state.sourceImageId
            object["masterImageId"] = state.masterImageId
            object["workCopyInstanceId"] = state.workCopyInstanceId
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                TerminalText.print(String(decoding: data, as: UTF8.self))
            }
        case .text:
            TerminalText.print("")
            TerminalText.print("Run \(run.id): \(run.status)")
            if let id = state.sourceImageId { TerminalText.print("  source image   \(id)") }
            if let id = state.masterImageId { TerminalText.print("  master image   \(id)") }
            for (name, id) in state.clones.sorted(by: { $0.key < $1.key }) { TerminalText.print("  clone          \(name) = \(id)") }
            for step in steps { TerminalText.print("  \(step.name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(step.status)") }
            TerminalText.print("  ledger         \(ledger.path)")
        }
    }
}

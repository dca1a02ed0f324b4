import Testing
import Foundation
import AWSCore
import ClonectlLedger
import ClonectlWorkflow
import TestSupport

/// kill -9 at every step boundary, then `clonectl run` again: the run finishes with exactly one of everything and
/// no guest step sent twice.
@Suite(.serialized) struct ResumeEndToEndTests {
    typealias W = EndToEndTests

    @Test(arguments: StepName.allCases.dropLast())
    func killedAfterAStepTheRunResumes(boundary: StepName) async throws {
        let w = try W.world()
        let process = try w.start(["run", w.plan.path])
        let reached = w.waitFor(step: boundary.rawValue, status: "succeeded", while: process)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(reached, "the run reached the end of \(boundary.rawValue)")

        let again = try w.run(["run", w.plan.path])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        let ledger = try Ledger(path: w.ledger)
        let runs = try ledger.runs()
        #expect(runs.count == 1 && runs.first?.status == "succeeded")
        let runId = try #require(runs.first?.id)
        let made = try await FaultEndToEndTests.made(w, runId: runId)
        #expect(made.source == 1 && made.master == 1 && made.workCopies == 1 && made.clones == 2, "\(made)")
        // Every guest step was sent once: a resumed step polls its command or takes its verified result.
        var sent: [String: Int] = [:]
        for step in StepName.allCases {
            for command in try ledger.commands(runId: runId, step: step.rawValue) { sent["\(step.rawValue)/\(command.payload)", default: 0] += 1 }
        }
        #expect(!sent.isEmpty)
        #expect(sent.values.allSatisfy { $0 == 1 }, "\(sent.filter { $0.value > 1 })")
    }
}

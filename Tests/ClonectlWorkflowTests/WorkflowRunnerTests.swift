import Testing
import Foundation
import Synchronization
import ClonectlLedger
import ClonectlPlan
@testable import ClonectlWorkflow

/// A shared log of what fake steps did.
final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ s: String) { entries.withLock { $0.append(s) } }
    var all: [String] { entries.withLock { $0 } }
}

final class Recorder: WorkflowReporter, Sendable {
    private let events = Mutex<[String]>([])
    func report(_ event: WorkflowEvent) {
        let text: String
        switch event {
        case .stepStarted(let s): text = "start \(s.rawValue)"
        case .stepSkipped(let s, _): text = "skip \(s.rawValue)"
        case .stepSucceeded(let s, _): text = "ok \(s.rawValue)"
        case .stepFailed(let s, _): text = "fail \(s.rawValue)"
        case .progress(let s, let m): text = "progress \(s.rawValue) \(m)"
        case .dryRun(let s, let lines): text = "dry \(s.rawValue) \(lines.count)"
        case .cleanupStarted(let s): text = "cleanup \(s.rawValue)"
        case .cleanupFailed(let s, _): text = "cleanup-failed \(s.rawValue)"
        case .waitStarted(let s, let what, _): text = "wait \(s.rawValue) \(what)"
        case .waitEnded(let s): text = "wait-end \(s.rawValue)"
        }
        events.withLock { $0.append(text) }
    }
    var all: [String] { events.withLock { $0 } }
}

struct FakeError: Error, CustomStringConvertible { var description: String { "boom" } }

final class Counter: Sendable {
    let value: Mutex<Int>
    init(_ v: Int) { value = Mutex(v) }
}

/// A step that records itself, sets a state field, and fails its first `failures` runs.
struct FakeStep: WorkflowStep {
    let name: StepName
    let journal: Journal
    let failures: Counter

    init(_ name: StepName, journal: Journal, failures: Int = 0) {
        self.name = name
        self.journal = journal
        self.failures = Counter(failures)
    }

    func describe(plan: Plan, state: RunState) -> [String] { ["would do \(name.rawValue)"] }

    func run(_ context: StepContext, _ state: inout RunState) async throws {
        journal.add("run \(name.rawValue)")
        state.clones[name.rawValue] = "i-\(name.index)"
        if name == .imageSource && state.sourceImageId == nil {
            state.sourceImageId = "ami-\(journal.all.count)"
            try context.checkpoint(state)
        }
        let fail = failures.value.withLock { f -> Bool in
            guard f > 0 else { return false }
            f -= 1
            return true
        }
        if fail { throw FakeError() }
    }

    func cleanup(_ context: StepContext, _ state: RunState) async throws { journal.add("cleanup \(name.rawValue)") }
}


func fixture(failing: StepName? = nil, failures: Int = 1) throws -> (WorkflowRunner, Ledger, Journal, Recorder, Plan, RunRecord) {
    let plan = try PlanLoader.parse("""
        version: 1
        name: web01
        source: {instanceId: i-0fedcba9876543210}
        workCopy: {subnetId: subnet-0aaaaaaaaaaaaaaaa, securityGroupIds: [sg-0bbbbbbbbbbbbbbbb], instanceProfile: p}
        masterImage: {name: web01-master}
        clones: [{name: web02, subnetId: subnet-0aaaaaaaaaaaaaaaa, hostName: WEB02}]
        """, file: "plan.yaml")
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-wf-\(UUID().uuidString).sqlite").path
    let ledger = try Ledger(path: path)
    let journal = Journal()
    let steps = StepName.allCases.map { FakeStep($0, journal: journal, failures: $0 == failing ? failures : 0) }
    let recorder = Recorder()
    let run = try ledger.createRun(planName: plan.name, planPath: "plan.yaml", planSha256: "x")
    return (WorkflowRunner(steps: steps, ledger: ledger, reporter: recorder), ledger, journal, recorder, plan, run)
}

@Suite struct WorkflowRunnerTests {
    @Test func runsEveryStepInOrderAndRecordsThem() async throws {
        let (runner, ledger, journal, _, plan, run) = try fixture()
        let state = try await runner.execute(run: run, plan: plan, options: .init())
        #expect(journal.all == StepName.allCases.map { "run \($0.rawValue)" })
        #expect(try ledger.steps(runId: run.id).allSatisfy { $0.status == "succeeded" })
        #expect(try ledger.run(id: run.id).status == "succeeded")
        #expect(state.clones.count == StepName.allCases.count, "every step's change to the state was kept")
        #expect(try ledger.runState(run.id)?.contains("\"sourceImageId\"") == true)
    }

    @Test func aFailedRunResumesWhereItStoppedWithItsState() async throws {
        let (runner, ledger, journal, recorder, plan, run) = try fixture(failing: .sysprep)
        await #expect(throws: FakeError.self) { try await runner.execute(run: run, plan: plan, options: .init()) }
        #expect(try ledger.run(id: run.id).status == "failed")
        #expect(try ledger.steps(runId: run.id).first { $0.name == "sysprep" }?.error == "boom")
        let imageAfterFirstTry = try ledger.runState(run.id)
        #expect(imageAfterFirstTry?.contains("ami-") == true)

        let state = try await runner.execute(run: run, plan: plan, options: .init())
        // Every step before sysprep ran exactly once; the image id from the first try was kept.
        #expect(journal.all.filter { $0 == "run image-source" }.count == 1)
        #expect(journal.all.filter { $0 == "run sysprep" }.count == 2)
        #expect(recorder.all.contains("skip preflight"))
        #expect(state.sourceImageId.map { imageAfterFirstTry?.contains($0) ?? false } == true)
        #expect(try ledger.run(id: run.id).status == "succeeded")
    }

    @Test func fromUntilAndRerun() async throws {
        let (runner, ledger, journal, _, plan, run) = try fixture()
        var options = WorkflowRunner.Options()
        options.until = .imageSource
        try await runner.execute(run: run, plan: plan, options: options)
        #expect(journal.all == ["run preflight", "run prep", "run stop-source", "run image-source"])
        #expect(try ledger.run(id: run.id).status == "interrupted", "a partial run is not finished, and nothing runs (D10)")
        #expect(try ledger.events(runId: run.id).contains { $0.message.contains("stopped after image-source") })

        options = .init()
        options.from = .prep
        options.until = .prep
        options.rerun = [.prep]
        try await runner.execute(run: run, plan: plan, options: options)
        #expect(journal.all.last == "run prep")
        #expect(journal.all.filter { $0 == "run prep" }.count == 2)
    }

    @Test func dryRunRecordsNothing() async throws {
        let (runner, ledger, journal, recorder, plan, run) = try fixture()
        var options = WorkflowRunner.Options()
        options.dryRun = true
        try await runner.execute(run: run, plan: plan, options: options)
        #expect(journal.all.isEmpty)
        #expect(try ledger.steps(runId: run.id).isEmpty)
        #expect(recorder.all.filter { $0.hasPrefix("dry ") }.count == StepName.allCases.count)
    }

    @Test func cleanupOnErrorUndoesNewestFirst() async throws {
        let (runner, _, journal, _, plan, run) = try fixture(failing: .stopSource)
        var options = WorkflowRunner.Options()
        options.onError = .cleanup
        await #expect(throws: FakeError.self) { try await runner.execute(run: run, plan: plan, options: options) }
        #expect(journal.all.filter { $0.hasPrefix("cleanup") } == ["cleanup stop-source", "cleanup prep", "cleanup preflight"])
    }

    @Test func aRunUndoneOnErrorIsRecordedCleanedWithItsStepsUndone() async throws {
        let (runner, ledger, _, _, plan, run) = try fixture(failing: .launchWorkCopy)
        var options = WorkflowRunner.Options()
        options.onError = .cleanup
        await #expect(throws: FakeError.self) { try await runner.execute(run: run, plan: plan, options: options) }
        #expect(try ledger.run(id: run.id).status == "cleaned")
        let steps = try ledger.steps(runId: run.id)
        #expect(!steps.isEmpty)
        #expect(steps.allSatisfy { $0.status == "undone" }, "\(steps.map { "\($0.name)=\($0.status)" })")
        #expect(try ledger.unfinishedRun(planName: plan.name) == nil, "a cleaned run is not resumable")
    }

    @Test func onErrorCleanupUndoesEarlierInvocationsToo() async throws {
        // First invocation: up to image-source. Second: fails at sysprep with --on-error cleanup.
        let (runner, ledger, journal, _, plan, run) = try fixture(failing: .sysprep)
        var options = WorkflowRunner.Options()
        options.until = .imageSource
        try await runner.execute(run: run, plan: plan, options: options)
        options = .init()
        options.onError = .cleanup
        await #expect(throws: FakeError.self) { try await runner.execute(run: run, plan: plan, options: options) }
        let undone = journal.all.filter { $0.hasPrefix("cleanup") }
        #expect(undone.contains("cleanup image-source") && undone.contains("cleanup stop-source"),
                "steps of the earlier invocation are undone too: \(undone)")
        #expect(try ledger.run(id: run.id).status == "cleaned")
    }

    @Test func cancellationMarksTheRunInterrupted() async throws {
        let (runner, ledger, _, _, plan, run) = try fixture()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await runner.execute(run: run, plan: plan, options: .init())
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try ledger.run(id: run.id).status == "interrupted")
        #expect(try ledger.unfinishedRun(planName: plan.name)?.id == run.id)
    }

    @Test func stepNamesParseAndOrder() {
        #expect(StepName(rawValue: "launch-work-copy") == .launchWorkCopy)
        #expect(StepName.preflight < StepName.cleanup)
        #expect(StepName.allCases.count == 13)
        #expect(StepName.launchWorkCopy < StepName.workCopyPrep && StepName.workCopyPrep < StepName.sysprep,
                "the access aids go on the work copy after its launch and before Sysprep")
    }
}

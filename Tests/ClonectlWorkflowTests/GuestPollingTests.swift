import Testing
import Synchronization
@testable import ClonectlWorkflow

/// The poll interval: quick at first, backing off with the time a command has run, never past the operator's bound.
@Suite struct GuestPollingTests {
    @Test func quickAtFirstThenProportionalThenBounded() {
        let polling = GuestRunner.Polling()
        #expect(polling.delay(afterRunning: .zero) == .seconds(2))
        #expect(polling.delay(afterRunning: .seconds(6)) == .seconds(2), "a short step is polled every 2 s")
        #expect(polling.delay(afterRunning: .seconds(40)) == .seconds(10), "a quarter of the time it has run")
        #expect(polling.delay(afterRunning: .seconds(1800)) == .seconds(20), "a 30-minute Sysprep: the bound")
    }

    @Test func theOperatorsBoundWins() {
        var polling = GuestRunner.Polling()
        polling.maxDelay = .seconds(5)
        #expect(polling.delay(afterRunning: .seconds(3600)) == .seconds(5))
        polling.firstDelay = .milliseconds(100)
        polling.maxDelay = .milliseconds(400)
        #expect(polling.delay(afterRunning: .zero) == .milliseconds(100))
        #expect(polling.delay(afterRunning: .seconds(1)) == .milliseconds(250))
        #expect(polling.delay(afterRunning: .seconds(10)) == .milliseconds(400))
    }

    @Test func everyDelayOfALongRunStaysWithinTheBounds() {
        let polling = GuestRunner.Polling()
        var elapsed = Duration.zero
        var polls = 0
        while elapsed < .seconds(3600) {
            let d = polling.delay(afterRunning: elapsed)
            #expect(d >= polling.firstDelay && d <= polling.maxDelay)
            elapsed += d
            polls += 1
        }
        // An hour-long step costs about 3600/20 polls plus the quick start, not 3600/2.
        #expect(polls < 200, "\(polls) polls in an hour")
    }
}

/// The gate that bounds a fleet's polls in flight.
@Suite struct AsyncGateTests {
    final class Meter: Sendable {
        let state = Mutex((inside: 0, peak: 0, done: 0))
        func enter() { state.withLock { $0.inside += 1; $0.peak = max($0.peak, $0.inside) } }
        func leave() { state.withLock { $0.inside -= 1; $0.done += 1 } }
    }

    @Test func neverMoreThanTheLimitInsideAndEveryoneGetsThrough() async throws {
        let gate = AsyncGate(limit: 3)
        let meter = Meter()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for i in 0..<40 {
                tasks.addTask {
                    try await gate.run {
                        meter.enter()
                        try await Task.sleep(for: .milliseconds(i % 4))
                        meter.leave()
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let s = meter.state.withLock { $0 }
        #expect(s.peak <= 3 && s.peak >= 1, "peak \(s.peak)")
        #expect(s.done == 40 && s.inside == 0)
    }

    @Test func aFailureLeavesItsPlace() async throws {
        let gate = AsyncGate(limit: 1)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await gate.run { throw Boom() } }
        // The place was given back: the next one gets in.
        let value = try await gate.run { 42 }
        #expect(value == 42)
    }
}

/// A fleet step's commands (one per 50 instances) share one DescribeDocument per payload version and prefix.
@Suite struct DocumentPinsTests {
    @Test func eachKeyIsLookedUpOnceAndAFailedLookUpIsNotRemembered() async throws {
        let pins = DocumentPins()
        let lookUps = Mutex(0)
        func pin(_ version: String) -> DocumentPin {
            lookUps.withLock { $0 += 1 }
            return DocumentPin(name: "clonectl-hostname", documentVersion: version, versionName: "1.1.0", sha256: "ab", arn: "arn")
        }
        for _ in 0..<100 {
            let p = try await pins.pin("clonectl-hostname@1.1.0") { pin("3") }
            #expect(p.documentVersion == "3")
        }
        #expect(lookUps.withLock { $0 } == 1)
        _ = try await pins.pin("other-hostname@1.1.0") { pin("1") }
        #expect(lookUps.withLock { $0 } == 2, "another prefix is another document")
        struct NotPublished: Error {}
        await #expect(throws: NotPublished.self) { try await pins.pin("clonectl-verify@1.1.0") { throw NotPublished() } }
        let later = try await pins.pin("clonectl-verify@1.1.0") { pin("2") }
        #expect(later.documentVersion == "2" && lookUps.withLock { $0 } == 3, "published since: looked up again")
    }
}

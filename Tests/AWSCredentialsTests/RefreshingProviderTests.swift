@testable import AWSCredentials
import Foundation
import Testing

/// A provider that hands out numbered temporary credentials valid for `lifetime` seconds from the fake clock.
final class CountingProvider: CredentialProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let clock: FakeClock
    let lifetime: TimeInterval?
    /// Lets a test hold every fetch until it has queued its concurrent callers.
    let gate: AsyncGate?
    var failNext = false

    init(clock: FakeClock, lifetime: TimeInterval? = 3600, gate: AsyncGate? = nil) {
        self.clock = clock
        self.lifetime = lifetime
        self.gate = gate
    }

    var count: Int { lock.withLock { calls } }

    func credentials() async throws -> AWSCredentials {
        let (n, fail) = lock.withLock { () -> (Int, Bool) in
            calls += 1
            defer { failNext = false }
            return (calls, failNext)
        }
        if let gate { await gate.wait() }
        if fail { throw AWSConfigError(.instanceMetadata, "metadata hiccup") }
        return AWSCredentials(accessKeyId: "KEY\(n)", secretAccessKey: "S", sessionToken: "T",
                              expiration: lifetime.map { clock.now.addingTimeInterval($0) }, source: "counting")
    }
}

/// Suspends waiters until opened.
actor AsyncGate {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func openGate() {
        open = true
        waiters.forEach { $0.resume() }
        waiters.removeAll()
    }
}

@Suite struct RefreshingProviderTests {
    @Test func refreshesOnlyInsideTheWindow() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let provider = RefreshingCredentialProvider(wrapping: base, refreshWindow: .seconds(300), now: clock.function)
        #expect(try await provider.credentials().accessKeyId == "KEY1")
        clock.advance(3600 - 301)  // 5 min + 1 s before expiry: still cached
        #expect(try await provider.credentials().accessKeyId == "KEY1")
        #expect(base.count == 1)
        clock.advance(2)  // now inside the 5-minute window
        #expect(try await provider.credentials().accessKeyId == "KEY2")
        #expect(try await provider.credentials().accessKeyId == "KEY2")
        #expect(base.count == 2)
    }

    @Test func longTermCredentialsAreFetchedOnce() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: nil)
        let provider = RefreshingCredentialProvider(wrapping: base, now: clock.function)
        _ = try await provider.credentials()
        clock.advance(86_400 * 365)
        _ = try await provider.credentials()
        #expect(base.count == 1)
        await provider.invalidate()
        _ = try await provider.credentials()
        #expect(base.count == 2)
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = FakeClock()
        let gate = AsyncGate()
        let base = CountingProvider(clock: clock, gate: gate)
        let provider = RefreshingCredentialProvider(wrapping: base, now: clock.function)
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await provider.credentials().accessKeyId } }
            // Open the gate only once the single fetch has started; all 50 callers are then queued on it or the cache.
            while base.count == 0 { await Task.yield() }
            await gate.openGate()
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(keys.count == 50 && Set(keys) == ["KEY1"])
        #expect(base.count == 1)
        #expect(await provider.fetchCount == 1)
    }

    @Test func failedRefreshKeepsStillValidCredentials() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let provider = RefreshingCredentialProvider(wrapping: base, now: clock.function)
        _ = try await provider.credentials()
        clock.advance(3600 - 60)
        base.failNext = true
        #expect(try await provider.credentials().accessKeyId == "KEY1")  // refresh failed, still valid for 60 s
        #expect(try await provider.credentials().accessKeyId == "KEY3")  // next call tried again and succeeded
        clock.advance(3600 + 1)
        base.failNext = true
        await expectConfigError(.instanceMetadata) { _ = try await provider.credentials() }  // expired: error
    }

    @Test func credentialsBornInsideTheWindowAreNotRefetchedOnEveryCall() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: 120)  // shorter than the 5-minute window
        let provider = RefreshingCredentialProvider(wrapping: base, now: clock.function)
        for _ in 0..<10 { _ = try await provider.credentials() }
        #expect(base.count == 1)
        clock.advance(61)
        _ = try await provider.credentials()
        #expect(base.count == 2)
    }
}

import Synchronization

/// Time for the retry machinery: a monotonic "now" in seconds and a cancellable sleep. Injected so
/// that the rate limiter and the waits can be tested without real time passing.
public protocol RetryClock: Sendable {
    /// Monotonic seconds since an arbitrary origin.
    func now() -> Double
    /// Sleeps; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock: ContinuousClock, so suspension of the host does not skew the measured rates.
public struct SystemRetryClock: RetryClock {
    private let origin: ContinuousClock.Instant

    public init() {
        origin = ContinuousClock.now
    }

    public func now() -> Double {
        (ContinuousClock.now - origin).retrySeconds
    }

    public func sleep(for duration: Duration) async throws {
        guard duration > .zero else { return try Task.checkCancellation() }
        try await Task.sleep(for: duration)
    }
}

/// A clock that moves only when told to, or when someone sleeps on it (the sleep advances time by
/// exactly its duration and returns at once). It records every sleep, so tests can assert the waits
/// the strategy asked for. For tests and benchmarks of the pipeline; never use it in production.
public final class ManualRetryClock: RetryClock {
    private struct State {
        var now: Double
        var sleeps: [Duration] = []
    }

    private let state: Mutex<State>

    public init(startingAt seconds: Double = 0) {
        state = Mutex(State(now: seconds))
    }

    public func now() -> Double {
        state.withLock { $0.now }
    }

    /// Every sleep requested so far, in order.
    public var sleeps: [Duration] {
        state.withLock { $0.sleeps }
    }

    /// Moves time forward without anyone sleeping (requests arriving over time).
    public func advance(by seconds: Double) {
        state.withLock { $0.now += max(seconds, 0) }
    }

    /// Sets time to an absolute value (never backwards: the clock is monotonic).
    public func set(to seconds: Double) {
        state.withLock { $0.now = max($0.now, seconds) }
    }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.sleeps.append(duration)
            $0.now += max(duration.retrySeconds, 0)
        }
    }
}

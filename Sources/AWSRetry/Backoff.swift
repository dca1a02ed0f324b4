/// A source of uniform numbers in [0, 1], injectable so tests can pin the jitter.
public struct RandomSource: Sendable {
    private let next: @Sendable () -> Double

    public init(_ next: @escaping @Sendable () -> Double) {
        self.next = next
    }

    /// A value in [0, 1]; out-of-range values from a custom source are clamped, not trusted.
    public func unit() -> Double {
        let value = next()
        guard value.isFinite else { return 0 }
        return min(max(value, 0), 1)
    }

    /// The system generator.
    public static let system = RandomSource { Double.random(in: 0..<1) }

    /// Always the same value: 0 gives no wait, 1 gives the full cap.
    public static func fixed(_ value: Double) -> RandomSource { RandomSource { value } }
}

/// Truncated binary exponential backoff with full jitter, as the SDKs' standard mode computes it:
///
///     t_i = rand(0, 1) * min(base * 2^i, maxBackoff)     (i = 0 for the first retry)
///
/// Full jitter spreads clients that failed together across the whole window, which is what
/// relieves a throttled service (AWS Architecture Blog, "Exponential Backoff And Jitter").
public struct BackoffSchedule: Sendable, Equatable {
    public var base: Duration
    public var maxBackoff: Duration

    public init(base: Duration, maxBackoff: Duration) {
        self.base = base
        self.maxBackoff = maxBackoff
    }

    /// SDK standard mode: base 1 s, MAX_BACKOFF 20 s (botocore `ExponentialBackoff`).
    public static let standard = BackoffSchedule(base: .seconds(1), maxBackoff: .seconds(20))

    /// Eventual consistency: short, frequent waits; the thing usually appears within seconds.
    public static let eventualConsistency = BackoffSchedule(base: .milliseconds(500), maxBackoff: .seconds(5))

    /// The window before jitter for retry number `retryIndex` (0-based): min(base * 2^i, max).
    public func cap(retryIndex: Int) -> Duration {
        let exponent = min(max(retryIndex, 0), 62)  // 2^62 already dwarfs any max; avoids overflow
        let window = base.retrySeconds * Double(UInt64(1) << UInt64(exponent))
        return .retrySeconds(min(window, maxBackoff.retrySeconds))
    }

    /// The jittered delay for retry number `retryIndex`, given a uniform value in [0, 1].
    public func delay(retryIndex: Int, unit: Double) -> Duration {
        .retrySeconds(cap(retryIndex: retryIndex).retrySeconds * min(max(unit, 0), 1))
    }

    /// Honour `x-amz-retry-after` the way botocore's standard mode 2.1 does: never less than our own
    /// jittered delay, and never more than 5 s beyond it, so a confused server cannot stall us.
    public static func applyingRetryAfter(_ retryAfter: Duration?, to delay: Duration) -> Duration {
        guard let retryAfter, retryAfter > .zero else { return delay }
        return max(delay, min(retryAfter, delay + .seconds(5)))
    }

    /// A clear complaint, or nil when usable.
    func problem(named name: String) -> String? {
        if base <= .zero { return "\(name) base must be greater than zero (got \(base))" }
        if maxBackoff < base { return "\(name) max backoff (\(maxBackoff)) must be at least its base (\(base))" }
        return nil
    }
}

/// Eventual-consistency retries are expected, not a sign of trouble: they get their own schedule and
/// cap, and they do not spend the retry quota.
public struct EventualConsistencyPolicy: Sendable, Equatable {
    public var backoff: BackoffSchedule
    /// Total attempts allowed for eventual-consistency failures (the first attempt included).
    public var maxAttempts: Int
    /// Optional wall budget from the first attempt; a retry whose wait would cross it is not made.
    public var timeBudget: Duration?

    public init(backoff: BackoffSchedule = .eventualConsistency, maxAttempts: Int = 10, timeBudget: Duration? = nil) {
        self.backoff = backoff
        self.maxAttempts = maxAttempts
        self.timeBudget = timeBudget
    }
}

extension Duration {
    /// Seconds as a Double (attosecond precision is more than any retry needs).
    var retrySeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }

    /// A Duration from seconds; negative and non-finite values become zero. Waits for capacity
    /// round up, so that after the sleep the capacity is really there and no 1 ns re-wait follows.
    static func retrySeconds(_ seconds: Double, rounding: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .nanoseconds(Int64(min((seconds * 1e9).rounded(rounding), 9e18)))
    }
}

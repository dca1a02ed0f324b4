/// The per-operation state the pipeline carries through its attempt loop. A value: the pipeline
/// owns it and passes it back `inout`, so no locking is needed for it.
public struct RetryToken: Sendable, Equatable {
    /// The service (the retry quota is shared per partition).
    public let partition: String
    /// The API (operation) within the partition: adaptive mode keeps one rate limiter per API, shared by every
    /// concurrent call of that API. Empty when the caller names none (one limiter for the whole partition).
    public let operation: String
    /// Codes that mean "not visible yet" for this operation.
    public let eventualConsistencyCodes: Set<String>
    /// The 1-based number of the attempt in flight.
    public internal(set) var attempt = 1
    /// Retries charged against `maxAttempts` (everything except eventual consistency).
    public internal(set) var retries = 0
    /// Retries charged against the eventual-consistency cap.
    public internal(set) var eventualConsistencyRetries = 0
    /// What the last quota-paid retry cost; refunded if the operation then succeeds.
    var lastQuotaCost: Int?
    /// Clock time of the first attempt, for the eventual-consistency budget.
    let startedAt: Double

    init(partition: String, operation: String, eventualConsistencyCodes: Set<String>, startedAt: Double) {
        self.partition = partition
        self.operation = operation
        self.eventualConsistencyCodes = eventualConsistencyCodes
        self.startedAt = startedAt
    }
}

/// What to do after a failed attempt.
public enum RetryDecision: Sendable, Equatable {
    /// Wait `after` (via `RetryStrategy.waitToRetry`), then make the next attempt.
    case retry(after: Duration, kind: RetryErrorKind)
    /// Surface the attempt's error.
    case giveUp(GiveUpReason)
}

/// Why the error surfaces; shown with `-v` next to the error itself.
public enum GiveUpReason: Sendable, Equatable, CustomStringConvertible {
    /// No classifier called it retryable (`decidedBy`: the classifier that said no, if any).
    case notRetryable(decidedBy: String?)
    /// The standard attempt cap was reached.
    case maxAttemptsReached(Int)
    /// The eventual-consistency attempt cap was reached.
    case eventualConsistencyAttemptsReached(Int)
    /// Waiting again would cross the eventual-consistency time budget.
    case eventualConsistencyBudgetExhausted(Duration)
    /// The retry quota could not pay for another retry: the service is failing for many requests.
    case retryQuotaExhausted(available: Int, cost: Int)

    public var description: String {
        switch self {
        case .notRetryable(let name):
            return name.map { "not retryable (decided by \($0))" } ?? "not retryable"
        case .maxAttemptsReached(let count):
            return "gave up after \(count) attempts (raise max_attempts to retry more)"
        case .eventualConsistencyAttemptsReached(let count):
            return "still not visible after \(count) attempts"
        case .eventualConsistencyBudgetExhausted(let budget):
            return "still not visible after the \(budget) budget"
        case .retryQuotaExhausted(let available, let cost):
            return "retry quota exhausted (\(available) left, a retry costs \(cost)): too many failures recently"
        }
    }
}

/// Counters per partition, for `-v` output and benchmarks.
public struct RetryStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Every attempt started: first attempts plus retries decided.
    public var attempts = 0
    /// Retries decided, eventual-consistency ones included.
    public var retries = 0
    public var eventualConsistencyRetries = 0
    /// Throttling failures seen (retried or not).
    public var throttles = 0
    /// Throttling failures by API (operation; "" for calls that named none).
    public var throttlesByOperation: [String: Int] = [:]
    /// Retries refused because the quota could not pay.
    public var quotaExhausted = 0
    /// Operations that succeeded / failures that surfaced.
    public var successes = 0
    public var giveUps = 0
    /// Times a send had to wait for the adaptive rate limiter, and the total wait.
    public var rateLimiterWaits = 0
    public var rateLimiterWaitSeconds = 0.0
    /// Snapshot values.
    public var availableQuota = 0
    /// Adaptive pacing rate (requests/s) of the partition-wide limiter (calls that name no API); nil when not
    /// adaptive or no throttle seen yet. Per-API rates are in `fillRateByOperation`.
    public var fillRate: Double?
    /// Adaptive pacing rate by API, for the APIs that are being paced (a throttle was seen).
    public var fillRateByOperation: [String: Double] = [:]
    /// Adaptive mode's measured response rate (requests/s); nil in standard mode.
    public var measuredRate: Double?

    public init() {}

    public var description: String {
        var text = "attempts \(attempts), retries \(retries) (eventual consistency \(eventualConsistencyRetries)), "
            + "throttles \(throttles), quota exhausted \(quotaExhausted), quota left \(availableQuota)"
        if rateLimiterWaits > 0 {
            text += ", rate-limited \(rateLimiterWaits)x (\(Self.format(rateLimiterWaitSeconds)) s)"
        }
        if let fillRate { text += ", fill rate \(Self.format(fillRate))/s" }
        return text
    }

    private static func format(_ value: Double) -> String {
        let hundredths = (value * 100).rounded()
        return "\(Int(hundredths) / 100).\(String(format2: Int(hundredths) % 100))"
    }
}

extension String {
    fileprivate init(format2 value: Int) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }
}

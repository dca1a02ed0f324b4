import Synchronization

/// Standard and adaptive retries, one instance per process. Shared state lives per partition (service) behind
/// one Mutex: the retry quota and counters per service, the adaptive rate limiters per API (operation) within it,
/// so that throttling of SendCommand paces SendCommand, not the polls beside it. Every critical section is a few
/// arithmetic operations, and all waiting happens outside the lock.
///
/// The pipeline's loop (or use `run(partition:...)`, which is exactly this):
///
///     var token = try await strategy.acquireInitialToken(partition: "ssm")
///     while true {
///         do { let result = try await attempt(); strategy.recordSuccess(token); return result }
///         catch { switch strategy.refreshTokenForRetry(&token, failure: describe(error)) {
///             case .retry(let delay, _): try await strategy.waitToRetry(token, after: delay)
///             case .giveUp: throw error } }
///     }
public final class RetryStrategy: Sendable {
    public let configuration: RetryConfiguration
    private let clock: any RetryClock
    private let random: RandomSource
    private let partitions = Mutex<[String: Partition]>([:])

    private struct Partition {
        var quota: RetryQuota
        /// Adaptive mode: one limiter per API, made on first use ("" for calls that name no API).
        var limiters: [String: ClientRateLimiter] = [:]
        var stats = RetryStatistics()
    }

    public init(
        configuration: RetryConfiguration = RetryConfiguration(),
        clock: any RetryClock = SystemRetryClock(), random: RandomSource = .system
    ) throws(RetryConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
        self.random = random
    }

    /// Starts an operation: in adaptive mode, waits until the rate limiter of the operation's API lets a
    /// send through. Throws `CancellationError` if the task is cancelled while waiting.
    public func acquireInitialToken(partition: String, operation: String = "",
                                    eventualConsistencyCodes: Set<String> = []) async throws -> RetryToken {
        try await waitForSendCapacity(partition: partition, operation: operation)
        let now = clock.now()
        withPartition(partition, now: now) { $0.stats.attempts += 1 }
        return RetryToken(partition: partition, operation: operation, eventualConsistencyCodes: eventualConsistencyCodes,
                          startedAt: now)
    }

    /// Decides about a failed attempt and, when retrying, charges the token (and the quota).
    /// Never waits: the delay is returned for `waitToRetry`.
    public func refreshTokenForRetry(_ token: inout RetryToken, failure: AttemptFailure) -> RetryDecision {
        let now = clock.now()
        let (kind, decidedBy) = configuration.classification.decide(
            failure, eventualConsistencyCodes: token.eventualConsistencyCodes)
        return withPartition(token.partition, now: now) { partition in
            // Every response feeds the API's limiter, retryable or not, as in botocore's needs-retry hook.
            updateLimiter(&partition, token.operation, throttled: kind == .throttling, now: now)
            if kind == .throttling {
                partition.stats.throttles += 1
                partition.stats.throttlesByOperation[token.operation, default: 0] += 1
            }
            let decision: RetryDecision
            switch kind {
            case nil, .client?:
                decision = .giveUp(.notRetryable(decidedBy: decidedBy))
            case .eventualConsistency?:
                decision = eventualConsistencyDecision(&token, failure: failure, now: now)
            case let kind?:
                decision = standardDecision(&token, kind: kind, failure: failure, quota: &partition.quota)
            }
            switch decision {
            case .retry(_, let kind):
                token.attempt += 1
                partition.stats.attempts += 1
                partition.stats.retries += 1
                if kind == .eventualConsistency { partition.stats.eventualConsistencyRetries += 1 }
            case .giveUp(let reason):
                partition.stats.giveUps += 1
                if case .retryQuotaExhausted = reason { partition.stats.quotaExhausted += 1 }
            }
            return decision
        }
    }

    /// Sleeps the decided delay, then (adaptive mode) waits for the rate limiter. Cancellable.
    public func waitToRetry(_ token: RetryToken, after delay: Duration) async throws {
        try await clock.sleep(for: delay)
        try await waitForSendCapacity(partition: token.partition, operation: token.operation)
    }

    /// The operation succeeded: refund the quota and, in adaptive mode, let the rate grow.
    public func recordSuccess(_ token: RetryToken) {
        let now = clock.now()
        withPartition(token.partition, now: now) { partition in
            updateLimiter(&partition, token.operation, throttled: false, now: now)
            partition.quota.recordSuccess(lastRetryCost: token.lastQuotaCost)
            partition.stats.successes += 1
        }
    }

    /// Counters and current values for one partition (zeros if it was never used).
    public func statistics(partition: String) -> RetryStatistics {
        partitions.withLock { all in
            all[partition].map(Self.snapshot) ?? Self.snapshot(Partition(quota: RetryQuota(costs: configuration.quota)))
        }
    }

    /// Counters for every partition used so far.
    public func statistics() -> [String: RetryStatistics] {
        partitions.withLock { all in all.mapValues(Self.snapshot) }
    }

    // MARK: - Decisions (called under the lock; pure apart from the token and quota passed in)

    private func standardDecision(
        _ token: inout RetryToken, kind: RetryErrorKind, failure: AttemptFailure, quota: inout RetryQuota
    ) -> RetryDecision {
        guard token.retries + 1 < configuration.maxAttempts else {
            return .giveUp(.maxAttemptsReached(configuration.maxAttempts))
        }
        let cost = quota.costs.cost(of: failure)
        guard quota.acquire(cost) else {
            return .giveUp(.retryQuotaExhausted(available: quota.available, cost: cost))
        }
        token.lastQuotaCost = cost
        let schedule = kind == .throttling ? configuration.throttlingBackoff : configuration.backoff
        let delay = schedule.delay(retryIndex: token.retries, unit: random.unit())
        token.retries += 1
        return .retry(after: BackoffSchedule.applyingRetryAfter(failure.retryAfter, to: delay), kind: kind)
    }

    /// Eventual consistency is expected: own schedule and cap, and no quota spent.
    private func eventualConsistencyDecision(_ token: inout RetryToken, failure: AttemptFailure, now: Double) -> RetryDecision {
        let policy = configuration.eventualConsistency
        guard token.eventualConsistencyRetries + 1 < policy.maxAttempts else {
            return .giveUp(.eventualConsistencyAttemptsReached(policy.maxAttempts))
        }
        let jittered = policy.backoff.delay(retryIndex: token.eventualConsistencyRetries, unit: random.unit())
        let delay = BackoffSchedule.applyingRetryAfter(failure.retryAfter, to: jittered)
        if let budget = policy.timeBudget, now - token.startedAt + delay.retrySeconds > budget.retrySeconds {
            return .giveUp(.eventualConsistencyBudgetExhausted(budget))
        }
        token.eventualConsistencyRetries += 1
        return .retry(after: delay, kind: .eventualConsistency)
    }

    // MARK: - Shared state

    /// Adaptive mode: take a token from the API's bucket, sleeping (outside the lock) until one is
    /// there. The rate may change while we sleep, so the wait is recomputed each time.
    private func waitForSendCapacity(partition name: String, operation: String) async throws {
        guard configuration.mode == .adaptive else { return }
        while true {
            try Task.checkCancellation()
            let now = clock.now()
            let wait: Double? = withPartition(name, now: now) { partition in
                guard let wait = Self.withLimiter(&partition, operation, now: now, { $0.tryAcquire(now: now) }) else {
                    return nil
                }
                partition.stats.rateLimiterWaits += 1
                partition.stats.rateLimiterWaitSeconds += wait
                return wait
            }
            guard let wait else { return }
            try await clock.sleep(for: .retrySeconds(wait, rounding: .up))
        }
    }

    private func withPartition<R: Sendable>(_ name: String, now: Double, _ body: (inout Partition) -> R) -> R {
        partitions.withLock { all in
            if all[name] == nil {
                all[name] = Partition(quota: RetryQuota(costs: configuration.quota))
            }
            return body(&all[name]!)
        }
    }

    /// Runs `body` on the API's limiter in place, making it on first use (under the lock, adaptive mode only).
    private static func withLimiter<R>(_ partition: inout Partition, _ operation: String, now: Double,
                                       _ body: (inout ClientRateLimiter) -> R) -> R {
        if partition.limiters[operation] == nil { partition.limiters[operation] = ClientRateLimiter(now: now) }
        return body(&partition.limiters[operation]!)
    }

    private func updateLimiter(_ partition: inout Partition, _ operation: String, throttled: Bool, now: Double) {
        guard configuration.mode == .adaptive else { return }
        Self.withLimiter(&partition, operation, now: now) { $0.update(throttled: throttled, now: now) }
    }

    private static func snapshot(_ partition: Partition) -> RetryStatistics {
        var stats = partition.stats
        stats.availableQuota = partition.quota.available
        stats.fillRate = partition.limiters[""]?.fillRate
        stats.measuredRate = partition.limiters[""]?.measuredRate
        stats.fillRateByOperation = partition.limiters.compactMapValues(\.fillRate)
        return stats
    }
}

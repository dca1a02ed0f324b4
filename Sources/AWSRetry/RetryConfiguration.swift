/// Everything that shapes retries, with the SDK standard-mode defaults. Validated once, when the
/// strategy is built, so a bad `max_attempts` in a config file fails early with a clear message.
public struct RetryConfiguration: Sendable {
    /// `retry_mode` (parsed from the config file and environment by AWSSettings, which names the source in errors;
    /// `legacy` maps to standard).
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Classification, backoff, retry quota.
        case standard
        /// Standard plus client-side rate limiting once throttling is seen.
        case adaptive
    }

    public var mode: Mode
    /// Total attempts for non-eventual-consistency failures, the first one included (SDK default 3).
    public var maxAttempts: Int
    /// Schedule for transient and server errors.
    public var backoff: BackoffSchedule
    /// Schedule for throttling errors (kept separate: botocore 2.1 waits longer on throttles than on
    /// 5xx; set `backoff` to base 50 ms to match it).
    public var throttlingBackoff: BackoffSchedule
    public var eventualConsistency: EventualConsistencyPolicy
    public var quota: RetryQuota.Costs
    public var classification: RetryClassification

    public init(
        mode: Mode = .standard, maxAttempts: Int = 3,
        backoff: BackoffSchedule = .standard, throttlingBackoff: BackoffSchedule = .standard,
        eventualConsistency: EventualConsistencyPolicy = EventualConsistencyPolicy(),
        quota: RetryQuota.Costs = .standard,
        classification: RetryClassification = RetryClassification()
    ) {
        self.mode = mode
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.throttlingBackoff = throttlingBackoff
        self.eventualConsistency = eventualConsistency
        self.quota = quota
        self.classification = classification
    }

    /// Throws the first problem found, phrased as what to fix.
    public func validate() throws(RetryConfigurationError) {
        if maxAttempts < 1 {
            throw RetryConfigurationError("max attempts must be at least 1 (got \(maxAttempts)); 1 disables retries")
        }
        if eventualConsistency.maxAttempts < 1 {
            throw RetryConfigurationError(
                "eventual-consistency max attempts must be at least 1 (got \(eventualConsistency.maxAttempts))")
        }
        if let budget = eventualConsistency.timeBudget, budget <= .zero {
            throw RetryConfigurationError("eventual-consistency time budget must be positive (got \(budget))")
        }
        let problems = [
            backoff.problem(named: "backoff"), throttlingBackoff.problem(named: "throttling backoff"),
            eventualConsistency.backoff.problem(named: "eventual-consistency backoff"), quota.problem(),
        ]
        if let problem = problems.compactMap({ $0 }).first { throw RetryConfigurationError(problem) }
    }
}

/// A configuration mistake, with the fix in the message.
public struct RetryConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Everything that shapes retries, with the SDK standard-mode defaults. Validated once, when the
/// strategy is built, so a bad `max_attempts` in a config file fails early with a clear message.
public struct RetryConfiguration: Sendable {
    /// `retry_mode` from the AWS config file.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Classification, backoff, retry quota.
        case standard
        /// Standard plus client-side rate limiting once throttling is seen.
        case adaptive

        /// Parses `retry_mode`. `legacy` (the old SDK default) is accepted and treated as standard:
        /// standard is what legacy users get from every current SDK anyway.
        public init(configValue: String) throws(RetryConfigurationError) {
            switch configValue.trimmingWhitespace().lowercased() {
            case "standard", "legacy": self = .standard
            case "adaptive": self = .adaptive
            default: throw RetryConfigurationError("retry_mode '\(configValue)' is not known; use 'standard' or 'adaptive'")
            }
        }
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

    /// Parses `max_attempts` from a config file or environment (AWS_MAX_ATTEMPTS).
    public static func parseMaxAttempts(_ text: String) throws(RetryConfigurationError) -> Int {
        guard let value = Int(text.trimmingWhitespace()), value >= 1 else {
            throw RetryConfigurationError("max_attempts '\(text)' must be a whole number of at least 1 (1 disables retries)")
        }
        return value
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

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// What the observer sees before each retry: enough for a `-v` line, nothing secret.
public struct RetryEvent: Sendable, Equatable {
    public let partition: String
    /// The attempt that failed (1-based).
    public let failedAttempt: Int
    public let failure: AttemptFailure
    public let kind: RetryErrorKind
    public let delay: Duration
}

extension RetryStrategy {
    /// The whole attempt loop for one operation. `attempt` receives the 1-based attempt number and
    /// must re-sign its request each time (a signature is only valid for minutes, and the date moves).
    /// `describe` turns a thrown error into an `AttemptFailure`; nil means "not an attempt failure"
    /// (a local bug or validation error) and surfaces at once without touching the quota.
    /// The error that surfaces is always the last attempt's own error, never a wrapper.
    public func run<Result>(
        partition: String,
        operation: String = "",
        eventualConsistencyCodes: Set<String> = [],
        describe: (any Error) -> AttemptFailure?,
        onRetry: (RetryEvent) -> Void = { _ in },
        _ attempt: (_ attemptNumber: Int) async throws -> Result
    ) async throws -> Result {
        var token = try await acquireInitialToken(partition: partition, operation: operation,
                                                  eventualConsistencyCodes: eventualConsistencyCodes)
        while true {
            do {
                let result = try await attempt(token.attempt)
                recordSuccess(token)
                return result
            } catch {
                guard let failure = describe(error) else { throw error }
                let failedAttempt = token.attempt
                switch refreshTokenForRetry(&token, failure: failure) {
                case .giveUp:
                    throw error
                case .retry(let delay, let kind):
                    onRetry(RetryEvent(
                        partition: partition, failedAttempt: failedAttempt, failure: failure, kind: kind, delay: delay))
                    try await waitToRetry(token, after: delay)
                }
            }
        }
    }
}

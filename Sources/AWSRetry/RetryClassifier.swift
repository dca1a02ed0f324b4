/// One classifier's answer. Like aws-sdk-go-v2's `aws.Ternary` in `retry/retryable_error.go`:
/// a classifier that does not recognise the failure says `.unknown` and lets the next one decide.
public enum RetryVerdict: Sendable, Equatable {
    /// Retry, as this kind of error.
    case retry(RetryErrorKind)
    /// Definitely do not retry; later classifiers are not asked.
    case doNotRetry
    /// Not mine to decide.
    case unknown
}

/// One link of the classification chain: a named, pure function from a failed attempt (and the
/// operation's eventual-consistency codes) to a verdict.
public struct RetryClassifier: Sendable {
    public typealias Body = @Sendable (
        _ failure: AttemptFailure, _ eventualConsistencyCodes: Set<String>
    ) -> RetryVerdict

    /// For logs and tests: which classifier decided.
    public let name: String
    private let body: Body

    public init(name: String, _ body: @escaping Body) {
        self.name = name
        self.body = body
    }

    public func verdict(for failure: AttemptFailure, eventualConsistencyCodes: Set<String> = []) -> RetryVerdict {
        body(failure, eventualConsistencyCodes)
    }
}

// MARK: - The built-in classifiers

extension RetryClassifier {
    /// Throttling codes: the union botocore's `ThrottledRetryableChecker` has seen across services.
    public static let defaultThrottlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]

    /// Transient codes: botocore's `TransientRetryableChecker` list plus `RetryIDPCommunicationError`
    /// (PriorRequestNotComplete is on both of botocore's lists; here it counts as throttling).
    public static let defaultTransientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
    ]

    /// Our own cancellation is never retried, whatever else is true (go-v2's `NoRetryCanceledError`
    /// comes first for the same reason): it must win over "timeout-like" classifications.
    public static let cancellation = RetryClassifier(name: "cancellation") { failure, _ in
        failure.transportError == .cancelled ? .doNotRetry : .unknown
    }

    /// The operation's eventual-consistency codes (for example `InvocationDoesNotExist` right after
    /// SendCommand). A code in the set is expected and retried on its own schedule, unless the caller
    /// says the resource is old (`isAfterCreate == false`): then "not found" is the truth.
    public static let eventualConsistency = RetryClassifier(name: "eventualConsistency") { failure, codes in
        guard let code = failure.errorCode, codes.contains(code) else { return .unknown }
        return failure.isAfterCreate == false ? .doNotRetry : .retry(.eventualConsistency)
    }

    /// Throttling by error code. Runs before the status checks so that the code wins:
    /// EC2 answers `503 RequestLimitExceeded`, which is throttling, not a server failure.
    public static func throttlingCodes(_ codes: Set<String> = defaultThrottlingCodes) -> RetryClassifier {
        RetryClassifier(name: "throttlingCodes") { failure, _ in
            guard let code = failure.errorCode, codes.contains(code) else { return .unknown }
            return .retry(.throttling)
        }
    }

    /// Transient errors by error code.
    public static func transientCodes(_ codes: Set<String> = defaultTransientCodes) -> RetryClassifier {
        RetryClassifier(name: "transientCodes") { failure, _ in
            guard let code = failure.errorCode, codes.contains(code) else { return .unknown }
            return .retry(.transient)
        }
    }

    /// Failures below HTTP. The SDKs retry connection errors: the request most likely never reached
    /// the service. DNS failures are retried too (a resolver hiccup is common on a busy host); a name
    /// that truly does not exist still stops at max attempts. TLS, size, cancellation and invalid
    /// requests fail the same way every time, so they are not retried.
    public static let transport = RetryClassifier(name: "transport") { failure, _ in
        guard let kind = failure.transportError else { return .unknown }
        switch kind {
        case .resolve, .connect, .timeout, .emptyReply, .sendReceive:
            return .retry(.transient)
        case .tls, .responseTooLarge, .cancelled, .invalidRequest, .other:
            return .doNotRetry
        }
    }

    /// HTTP 429 without a known code is throttling.
    public static func throttlingStatus(_ statuses: Set<Int> = [429]) -> RetryClassifier {
        RetryClassifier(name: "throttlingStatus") { failure, _ in
            guard let status = failure.httpStatus, statuses.contains(status) else { return .unknown }
            return .retry(.throttling)
        }
    }

    /// 500/502/503/504 are server failures (botocore's `_TRANSIENT_STATUS_CODES`).
    public static func serverStatus(_ statuses: Set<Int> = [500, 502, 503, 504]) -> RetryClassifier {
        RetryClassifier(name: "serverStatus") { failure, _ in
            guard let status = failure.httpStatus, statuses.contains(status) else { return .unknown }
            return .retry(.server)
        }
    }

    /// The default chain, most specific first: codes before statuses.
    public static let standardChain: [RetryClassifier] = [
        .cancellation, .eventualConsistency, .throttlingCodes(), .transientCodes(), .transport,
        .throttlingStatus(), .serverStatus(),
    ]
}

// MARK: - The chain

/// Runs classifiers in order; the first definite verdict wins. Nothing definite means "not
/// retryable": an unknown error is the caller's problem until someone teaches a classifier otherwise.
public struct RetryClassification: Sendable {
    public var classifiers: [RetryClassifier]

    public init(classifiers: [RetryClassifier] = RetryClassifier.standardChain) {
        self.classifiers = classifiers
    }

    /// The retryable kind, or nil when the failure must surface. `.retry(.client)` from a custom
    /// classifier also means "do not retry".
    public func classify(_ failure: AttemptFailure, eventualConsistencyCodes: Set<String> = []) -> RetryErrorKind? {
        decide(failure, eventualConsistencyCodes: eventualConsistencyCodes).kind
    }

    /// The kind plus the name of the classifier that decided (nil when none did), for `-v` output.
    public func decide(
        _ failure: AttemptFailure, eventualConsistencyCodes: Set<String> = []
    ) -> (kind: RetryErrorKind?, decidedBy: String?) {
        for classifier in classifiers {
            switch classifier.verdict(for: failure, eventualConsistencyCodes: eventualConsistencyCodes) {
            case .unknown: continue
            case .doNotRetry: return (nil, classifier.name)
            case .retry(let kind): return (kind == .client ? nil : kind, classifier.name)
            }
        }
        return (nil, nil)
    }
}

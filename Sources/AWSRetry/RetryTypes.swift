/// How a failed attempt is classified. The first classifier with a definite answer wins.
public enum RetryErrorKind: String, Sendable, Equatable {
    /// The service asked us to slow down (ThrottlingException, RequestLimitExceeded, 429...).
    case throttling
    /// The connection failed or timed out: the request may not have reached the service.
    case transient
    /// The service failed (5xx other than throttling).
    case server
    /// Eventual consistency: the thing just created is not visible yet (InvocationDoesNotExist,
    /// InvalidInstanceID.NotFound / InvalidAMIID.NotFound right after a create).
    case eventualConsistency
    /// The caller's fault: never retried.
    case client
}

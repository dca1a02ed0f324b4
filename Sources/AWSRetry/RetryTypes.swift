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

/// Why no HTTP response came back. A neutral vocabulary so that this module does not depend on
/// libcurl: the HTTP layer maps its own codes (CURLE_*) onto these.
public enum TransportFailureKind: String, Sendable, Equatable, CaseIterable {
    /// The host name did not resolve (CURLE_COULDNT_RESOLVE_HOST).
    case resolve
    /// TCP connect failed or was refused (CURLE_COULDNT_CONNECT).
    case connect
    /// Connect or transfer timed out (CURLE_OPERATION_TIMEDOUT).
    case timeout
    /// TLS handshake or certificate failure. Retrying will not fix a bad certificate.
    case tls
    /// The server closed the connection without a response (CURLE_GOT_NOTHING).
    case emptyReply
    /// The connection broke while sending or receiving (CURLE_SEND_ERROR / CURLE_RECV_ERROR).
    case sendReceive
    /// The response exceeded our size limit: it will be just as large next time.
    case responseTooLarge
    /// We cancelled the request ourselves (Ctrl-C, task cancellation).
    case cancelled
    /// The request could not be built (bad URL, bad option): a programming or input error.
    case invalidRequest
    /// Anything else the HTTP layer could not name.
    case other
}

/// A neutral description of one failed attempt: what the pipeline knows after the attempt,
/// without any HTTP or protocol types. At least one of `httpStatus`, `errorCode` or
/// `transportError` should be set.
public struct AttemptFailure: Sendable, Equatable {
    /// The HTTP status, when a response arrived.
    public var httpStatus: Int?
    /// The service's error code, already sanitized by the protocol layer
    /// (`ThrottlingException`, not `com.amazon.coral...#ThrottlingException:...`).
    public var errorCode: String?
    /// Why no response arrived, when none did.
    public var transportError: TransportFailureKind?
    /// Whether the operation refers to something this run has just created.
    /// `true`/`nil`: an eventual-consistency code is retried; `false`: the resource is known to be
    /// old, so "not found" is real and is not retried.
    public var isAfterCreate: Bool?
    /// The server's `x-amz-retry-after` hint, when present. Honoured within limits (see backoff).
    public var retryAfter: Duration?

    public init(
        httpStatus: Int? = nil, errorCode: String? = nil, transportError: TransportFailureKind? = nil,
        isAfterCreate: Bool? = nil, retryAfter: Duration? = nil
    ) {
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.transportError = transportError
        self.isAfterCreate = isAfterCreate
        self.retryAfter = retryAfter
    }

    /// Shorthand for a service error response.
    public static func service(status: Int, code: String?, isAfterCreate: Bool? = nil) -> AttemptFailure {
        AttemptFailure(httpStatus: status, errorCode: code, isAfterCreate: isAfterCreate)
    }

    /// Shorthand for a failure below HTTP.
    public static func transport(_ kind: TransportFailureKind) -> AttemptFailure {
        AttemptFailure(transportError: kind)
    }
}

extension AttemptFailure: CustomStringConvertible {
    /// Short, secret-free text for logs: `HTTP 503 RequestLimitExceeded`, `transport timeout`.
    public var description: String {
        var parts: [String] = []
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        if let errorCode { parts.append(errorCode) }
        if let transportError { parts.append("transport \(transportError.rawValue)") }
        return parts.isEmpty ? "unknown failure" : parts.joined(separator: " ")
    }
}

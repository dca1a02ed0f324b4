import Foundation
import AWSHTTP
import AWSRetry

/// A failed AWS call: what the service said (code, message, request id, HTTP status), or why nothing usable came back.
///
/// Messages are scrubbed of the caller's secret key and session token before they are stored: AWS echoes the
/// canonical request in SignatureDoesNotMatch messages, and that can hold the token.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The service answered with an error document.
        case service
        /// Nothing (or nothing whole) came back: connection, DNS, TLS, timeout.
        case transport
        /// An answer came back but could not be read (not JSON / XML, missing fields).
        case malformedResponse
        /// A waiter gave up, or the caller's deadline passed.
        case timeout
        /// The request could not be built (bad input to a typed call).
        case invalidRequest
    }

    public var kind: Kind
    /// The service's error code (`ThrottlingException`, `InvalidInstanceID.NotFound`), or a local one for other kinds.
    public var code: String
    public var message: String
    public var requestId: String?
    public var httpStatus: Int?
    /// Service id and operation, e.g. "ssm" / "SendCommand".
    public var service: String
    public var operation: String
    /// Attempts made before giving up (1 = no retry).
    public var attempts: Int = 1
    /// The service's Retry-After, when it sent one.
    var retryAfter: Duration?
    /// For `.transport`: the transport's classification.
    public var transportKind: HTTPTransportError.Kind?
    /// A call that acts (`CallSafety.actsOnce`) failed in a way that does not tell whether the service carried it
    /// out: the answer was lost after the request went out, or a 5xx came back. The caller must look before it
    /// sends the call again.
    public var outcomeUnknown = false

    public init(kind: Kind, code: String, message: String, requestId: String? = nil, httpStatus: Int? = nil,
                service: String, operation: String, transportKind: HTTPTransportError.Kind? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.requestId = requestId
        self.httpStatus = httpStatus
        self.service = service
        self.operation = operation
        self.transportKind = transportKind
    }

    public var description: String {
        var details: [String] = []
        if let httpStatus { details.append("HTTP \(httpStatus)") }
        if let requestId { details.append("request id \(requestId)") }
        if attempts > 1 { details.append("after \(attempts) attempts") }
        if outcomeUnknown { details.append("it may have been carried out") }
        let suffix = details.isEmpty ? "" : " (\(details.joined(separator: ", ")))"
        return "\(service) \(operation) failed: \(code): \(message)\(suffix)\(hint.map { "\n  hint: \($0)" } ?? "")"
    }

    /// What an operator can do about the common failures.
    public var hint: String? {
        switch code {
        case "SignatureDoesNotMatch":
            return "the secret key does not match the access key, or something between here and AWS changed the request; compare with `clonectl debug sigv4`"
        case "InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure":
            return "the access key is not known to this endpoint: check the profile, AWS_ACCESS_KEY_ID, and --endpoint-url"
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
            return "the credentials or the request expired: refresh the session, and check this machine's clock"
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
            return "the identity lacks a permission: see controller/iam/ for the policies clonectl needs"
        default:
            return nil
        }
    }

    /// Throttling, a server error or a broken connection that outlasted the client's retries: worth trying again in
    /// the next round of a long poll, not a reason to give the whole wait up.
    public var isTransient: Bool {
        guard let failure = attemptFailure else { return false }
        switch RetryClassification().classify(failure) {
        case .throttling?, .transient?, .server?: return true
        case .eventualConsistency?, .client?, nil: return false
        }
    }

    /// The service refused the call for its rate (ThrottlingException, RequestLimitExceeded...): the call was not
    /// carried out, so sending it again later is safe even for a call that creates something.
    public var isThrottling: Bool {
        attemptFailure.map { RetryClassification().classify($0) == .throttling } ?? false
    }

    /// The failure as the retry strategy judges it; nil for errors that are not attempt failures.
    var attemptFailure: AttemptFailure? {
        switch kind {
        case .service:
            var failure = AttemptFailure.service(status: httpStatus ?? 0, code: code)
            failure.retryAfter = retryAfter
            return failure
        case .transport:
            return .transport(transportKind.map(TransportFailureKind.init) ?? .other)
        case .malformedResponse, .timeout, .invalidRequest:
            return nil
        }
    }

    /// Replaces every occurrence of the given secrets in the message.
    mutating func scrub(secrets: [String]) {
        for secret in secrets where secret.count >= 8 {
            message = message.replacingOccurrences(of: secret, with: "<redacted>")
        }
    }
}

/// Reads the three error shapes AWS uses: JSON 1.1 (`__type`), EC2's `<Response><Errors>`, and the Query/auth
/// `<ErrorResponse>` (which moto also sends for SSM auth failures).
public enum AWSErrorParser {
    public static func parse(response: HTTPResponse, service: String, operation: String) -> AWSError {
        let headerRequestId = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        let body = response.body
        let first = body.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
        if first == UInt8(ascii: "{"), let err = parseJSON(body, response: response) {
            return AWSError(kind: .service, code: err.code, message: err.message,
                            requestId: headerRequestId, httpStatus: response.status,
                            service: service, operation: operation)
        }
        if first == UInt8(ascii: "<"), let root = try? XMLNode.parse(body) {
            // EC2: <Response><Errors><Error>..</Error></Errors><RequestID>..</RequestID></Response>
            // Query: <ErrorResponse><Error><Code>..</Code>..</Error><RequestId>..</RequestId></ErrorResponse>
            let error = root.at("Errors/Error") ?? root.child("Error") ?? (root.name == "Error" ? root : nil)
            if let error, let code = error.string("Code"), !code.isEmpty {
                let requestId = root.string("RequestID") ?? root.string("RequestId") ?? headerRequestId
                return AWSError(kind: .service, code: code, message: error.string("Message") ?? "",
                                requestId: requestId, httpStatus: response.status,
                                service: service, operation: operation)
            }
        }
        if let type = response.header("x-amzn-ErrorType") {
            return AWSError(kind: .service, code: sanitizeErrorType(type), message: snippet(body),
                            requestId: headerRequestId, httpStatus: response.status,
                            service: service, operation: operation)
        }
        return AWSError(kind: .service, code: "HTTP\(response.status)",
                        message: body.isEmpty ? "empty error body" : "unrecognised error body: \(snippet(body))",
                        requestId: headerRequestId, httpStatus: response.status,
                        service: service, operation: operation)
    }

    private static func parseJSON(_ body: [UInt8], response: HTTPResponse) -> (code: String, message: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        let rawType = (object["__type"] as? String) ?? (object["code"] as? String) ?? response.header("x-amzn-ErrorType")
        guard let rawType else { return nil }
        let message = (object["message"] as? String) ?? (object["Message"] as? String) ?? (object["errorMessage"] as? String) ?? ""
        return (sanitizeErrorType(rawType), message)
    }

    /// `com.amazonaws.ssm#InvalidInstanceId:http://internal.amazon.com/` -> `InvalidInstanceId`.
    public static func sanitizeErrorType(_ raw: String) -> String {
        var s = Substring(raw)
        if let hash = s.lastIndex(of: "#") { s = s[s.index(after: hash)...] }
        if let colon = s.firstIndex(of: ":") { s = s[..<colon] }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// A successful answer may carry credentials (AssumeRole) or parameter values (GetParameter): its bytes are never
    /// quoted in an error, which `run` also stores in the ledger. Messages name the field that failed instead.
    static let bodyNotShown = "the body is not shown because it may hold credentials or parameter values"

    /// At most 200 printable characters of an error body (never a successful answer's), for messages.
    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let printable = text.unicodeScalars.map { $0.properties.isWhitespace || $0.value >= 0x20 ? Character($0) : "?" }
        return String(printable).replacingOccurrences(of: "\n", with: " ") + (body.count > 200 ? "..." : "")
    }
}

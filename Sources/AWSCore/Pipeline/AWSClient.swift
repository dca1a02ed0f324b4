import Foundation
import AWSHTTP
import AWSSigV4
import AWSRetry
import AWSCredentials

/// Which AWS service a client talks to: its id for endpoints and env vars, endpoint prefix and signing name.
public typealias AWSService = ServiceEndpointInfo

extension ServiceEndpointInfo {
    /// The short lower-case name used in errors, retry partitions and events ("ssm", "ec2", "sts").
    public var id: String { endpointPrefix }
}

/// Where a request goes: scheme, host, port and base path of the resolved endpoint.
public struct AWSEndpoint: Sendable, Equatable {
    public var url: String
    public var host: String
    /// The `Host` header: host, plus the port when it is not the scheme's default.
    public var hostHeader: String
    public var path: String

    /// Parses an endpoint URL; a clear error when it has no scheme or host.
    public init(_ url: String) throws {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = c.host, !host.isEmpty else {
            throw AWSError(kind: .invalidRequest, code: "InvalidEndpoint",
                           message: "endpoint '\(url)' is not an http:// or https:// URL with a host", service: "", operation: "")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let hostPart = host.contains(":") ? "[\(host)]" : host
        self.host = host
        self.hostHeader = c.port.map { $0 == defaultPort ? hostPart : "\(hostPart):\($0)" } ?? hostPart
        self.path = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
        self.url = "\(scheme)://\(hostHeader)\(self.path)"
    }
}

/// What one attempt did, for `-v` output and call counting. Never holds a secret.
public struct AWSCallEvent: Sendable {
    /// `attempt`: about to send; `response`: an answer came back; `failed`: nothing came back; `retry`: waiting to retry.
    public enum Phase: Sendable { case attempt, response, retry, failed }
    public var phase: Phase
    public var service: String
    public var operation: String
    public var attempt: Int
    public var httpStatus: Int?
    public var errorCode: String?
    public var requestId: String?
    public var elapsed: Duration?
    public var retryDelay: Duration?
}

/// One service's request pipeline: credentials, sign (on every attempt), send, read errors, retry.
public final class AWSClient: Sendable {
    public struct Options: Sendable {
        /// Limits for each attempt.
        public var attempt = HTTPRequestOptions(timeout: .seconds(60), connectTimeout: .seconds(10), maxResponseBytes: 32 << 20)
        /// Called for every attempt, response and retry (from any task: must be thread-safe).
        public var observer: (@Sendable (AWSCallEvent) -> Void)?
        /// Signing time source; tests may pin it.
        public var clock: @Sendable () -> Date = { Date() }
        /// Send without a signature (STS AssumeRoleWithWebIdentity: the web identity token is the proof).
        public var unsigned = false
        public init() {}
    }

    public let service: AWSService
    public let endpoint: AWSEndpoint
    public let region: String
    public let credentials: CredentialProvider
    public let transport: HTTPTransport
    public let retry: RetryStrategy
    public let options: Options
    private let skew = ClockSkew()

    public init(service: AWSService, endpoint: AWSEndpoint, region: String, credentials: CredentialProvider,
                transport: HTTPTransport, retry: RetryStrategy, options: Options = Options()) {
        self.service = service
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.options = options
    }

    /// Sends one operation and returns its 2xx response, retrying what the retry strategy says is retryable.
    /// `eventualConsistency` names error codes that mean "not visible yet" for this call. `safety` says whether the
    /// call may be repeated (see `CallSafety`): an `.actsOnce` call goes out on a fresh connection and is repeated only
    /// after a failure that proves it was not carried out; any other failure surfaces with `outcomeUnknown` set.
    /// `beforeAttempt` runs before each attempt is sent (a caller records that a call that acts may now be in flight).
    public func perform(operation: String, body: [UInt8], headers: [HTTPHeader],
                        eventualConsistency: Set<String> = [], safety: CallSafety = .idempotent,
                        beforeAttempt: (@Sendable (Int) async throws -> Void)? = nil) async throws -> HTTPResponse {
        try await perform(operation: operation, request: RequestShape(endpoint: endpoint, body: body, headers: headers),
                          eventualConsistency: eventualConsistency, safety: safety, beforeAttempt: beforeAttempt)
    }

    /// What one operation sends when it is not a POST to the client's endpoint (S3: GET/HEAD/PUT to a host and
    /// path that depend on the bucket and key, signed with S3's rules).
    public struct RequestShape: Sendable {
        public var method: String
        /// The scheme, host and port; the path below is appended to it.
        public var base: AWSEndpoint
        /// The path as on the wire (already percent-encoded).
        public var path: String
        /// The raw query, without `?`.
        public var query: String
        public var headers: [HTTPHeader]
        public var body: [UInt8]
        public var signing: SigV4Options

        public init(method: String = "POST", base: AWSEndpoint, path: String, query: String = "",
                    headers: [HTTPHeader] = [], body: [UInt8] = [], signing: SigV4Options = SigV4Options()) {
            self.method = method
            self.base = base
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
            self.signing = signing
        }

        /// The query protocols' shape: POST to the endpoint's own path.
        init(endpoint: AWSEndpoint, body: [UInt8], headers: [HTTPHeader]) {
            self.init(base: endpoint, path: endpoint.path, headers: headers, body: body)
        }

        /// The URL curl is given: the endpoint's scheme and host, this path and query.
        var url: String {
            let scheme = base.url.hasPrefix("https://") ? "https" : "http"
            return "\(scheme)://\(base.hostHeader)\(path)" + (query.isEmpty ? "" : "?" + query)
        }
    }

    /// Sends one operation of any shape; see `perform(operation:body:headers:...)` for the retry rules.
    public func perform(operation: String, request shape: RequestShape,
                        eventualConsistency: Set<String> = [], safety: CallSafety = .idempotent,
                        beforeAttempt: (@Sendable (Int) async throws -> Void)? = nil) async throws -> HTTPResponse {
        var attemptOptions = options.attempt
        attemptOptions.sendOnce = safety.sendOnce
        let limits = attemptOptions
        return try await retry.run(
            partition: service.id, operation: operation, eventualConsistencyCodes: eventualConsistency,
            describe: { error in
                guard let error = error as? AWSError else { return nil }
                if safety == .actsOnce, !CallSafety.provesNotCarriedOut(error) { return nil }
                return error.attemptFailure
            },
            onRetry: { event in
                emit(.retry, operation, event.failedAttempt, status: event.failure.httpStatus,
                     code: event.failure.errorCode ?? event.failure.transportError?.rawValue, delay: event.delay)
            },
            { attempt in
                do {
                    try await beforeAttempt?(attempt)
                    return try await send(operation: operation, shape: shape, attempt: attempt, limits: limits)
                } catch var error as AWSError {
                    error.attempts = attempt
                    if safety == .actsOnce, CallSafety.leavesOutcomeUnknown(error) { error.outcomeUnknown = true }
                    throw error
                }
            })
    }

    /// One attempt: fresh credentials, a fresh signature, one exchange. A 2xx answer is returned; anything else
    /// is thrown as an `AWSError` for the retry strategy to judge.
    private func send(operation: String, shape: RequestShape, attempt: Int,
                      limits: HTTPRequestOptions) async throws -> HTTPResponse {
        try Task.checkCancellation()
        var skewCorrected = false
        while true {
            let creds: AWSCredentials? = options.unsigned ? nil : try await credentials.credentials()
            let request = creds.map { sign(shape, credentials: $0) } ?? unsignedRequest(shape)
            emit(.attempt, operation, attempt)
            let started = ContinuousClock.now
            let response: HTTPResponse
            do {
                response = try await transport.execute(request, options: limits)
            } catch let transportError as HTTPTransportError {
                if transportError.kind == .cancelled, Task.isCancelled { throw CancellationError() }
                emit(.failed, operation, attempt, code: "Transport.\(transportError.kind.rawValue)")
                throw AWSError(kind: .transport, code: "Transport.\(transportError.kind.rawValue)",
                               message: transportError.description, service: service.id, operation: operation,
                               transportKind: transportError.kind)
            }
            let elapsed = ContinuousClock.now - started
            if (200..<300).contains(response.status) {
                emit(.response, operation, attempt, status: response.status,
                     requestId: response.header("x-amzn-RequestId"), elapsed: elapsed)
                return response
            }
            var error = AWSErrorParser.parse(response: response, service: service.id, operation: operation)
            error.scrub(secrets: creds.map { [$0.secretAccessKey, $0.sessionToken ?? ""] } ?? [])
            // A service that says when to come back (Retry-After: seconds) is listened to.
            error.retryAfter = response.header("Retry-After").flatMap { Int($0) }.map { .seconds($0) }
            emit(.response, operation, attempt, status: response.status, code: error.code,
                 requestId: error.requestId, elapsed: elapsed)
            // A skewed local clock: re-sign once with the service's time, within this attempt.
            if !skewCorrected, skew.adjust(code: error.code, serverDate: response.header("Date"), now: options.clock()) {
                skewCorrected = true
                continue
            }
            throw error
        }
    }

    /// Builds and signs one attempt's request. Called again for every retry: signatures expire.
    func sign(body: [UInt8], headers: [HTTPHeader], credentials creds: AWSCredentials) -> HTTPRequest {
        sign(RequestShape(endpoint: endpoint, body: body, headers: headers), credentials: creds)
    }

    func sign(_ shape: RequestShape, credentials creds: AWSCredentials) -> HTTPRequest {
        var signHeaders = [SigV4Header(name: "Host", value: shape.base.hostHeader)]
        signHeaders += shape.headers.map { SigV4Header(name: $0.name, value: $0.value) }
        let signed = SigV4.sign(
            SigV4Request(method: shape.method, path: shape.path, query: shape.query, headers: signHeaders, body: shape.body),
            credentials: SigV4Credentials(accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey,
                                          sessionToken: creds.sessionToken),
            region: region, service: service.signingName, date: skew.corrected(options.clock()), options: shape.signing)
        var out = signed.headers.map { HTTPHeader($0.name, $0.value) }
        out.append(HTTPHeader("User-Agent", "clonectl/\(AWSCoreInfo.version)"))
        return HTTPRequest(method: shape.method, url: shape.url, headers: out, body: shape.body)
    }

    func unsignedRequest(body: [UInt8], headers: [HTTPHeader]) -> HTTPRequest {
        unsignedRequest(RequestShape(endpoint: endpoint, body: body, headers: headers))
    }

    func unsignedRequest(_ shape: RequestShape) -> HTTPRequest {
        HTTPRequest(method: shape.method, url: shape.url,
                    headers: shape.headers + [HTTPHeader("User-Agent", "clonectl/\(AWSCoreInfo.version)")], body: shape.body)
    }

    private func emit(_ phase: AWSCallEvent.Phase, _ operation: String, _ attempt: Int, status: Int? = nil,
                      code: String? = nil, requestId: String? = nil, elapsed: Duration? = nil, delay: Duration? = nil) {
        options.observer?(AWSCallEvent(phase: phase, service: service.id, operation: operation, attempt: attempt,
                                       httpStatus: status, errorCode: code, requestId: requestId,
                                       elapsed: elapsed, retryDelay: delay))
    }
}

public enum AWSCoreInfo {
    public static let version = "0.1.0"
}

extension TransportFailureKind {
    init(_ kind: HTTPTransportError.Kind) {
        self = TransportFailureKind(rawValue: kind.rawValue) ?? .other
    }
}

/// The transport-neutral request and response the AWS pipeline hands to a transport.

public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    /// Absolute URL, already percent-encoded as it goes on the wire (`https://host/path?query`).
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

/// Limits for one attempt of one request.
public struct HTTPRequestOptions: Sendable {
    /// Whole attempt, connect to last byte.
    public var timeout: Duration
    public var connectTimeout: Duration
    /// A response body larger than this fails with `.responseTooLarge` instead of filling memory.
    public var maxResponseBytes: Int
    /// The request must not be sent twice (a call that acts and has no client token). It then goes out on a new
    /// connection: libcurl silently sends a request again when a *reused* connection turns out dead before any
    /// answer byte (its "Connection died, retrying a fresh connect"); on a fresh connection it never does, so a
    /// lost answer reaches the caller as an error and the caller decides.
    public var sendOnce: Bool

    public init(timeout: Duration = .seconds(60), connectTimeout: Duration = .seconds(10),
                maxResponseBytes: Int = 64 << 20, sendOnce: Bool = false) {
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
        self.sendOnce = sendOnce
    }
}

/// Anything that can carry one HTTP exchange. The curl transport is the real one; tests may substitute.
public protocol HTTPTransport: Sendable {
    func execute(_ request: HTTPRequest, options: HTTPRequestOptions) async throws -> HTTPResponse
}

/// A failure below HTTP: nothing (or nothing whole) came back.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case resolve          // host name did not resolve (curl 6)
        case connect          // connection refused or unreachable (curl 7)
        case timeout          // the attempt ran out of time (curl 28)
        case tls              // TLS handshake or certificate problem (curl 35, 60, 77, ...)
        case emptyReply       // server closed without answering (curl 52)
        case sendReceive      // connection broke mid-exchange (curl 55, 56)
        case responseTooLarge // body exceeded HTTPRequestOptions.maxResponseBytes
        case cancelled        // the awaiting task was cancelled
        case invalidRequest   // the request could not be handed to curl (bad URL, ...)
        case other
    }

    public var kind: Kind
    /// The libcurl result code, when curl produced one.
    public var curlCode: Int?
    public var message: String
    /// The URL without its query (queries may carry signed parameters).
    public var url: String

    public init(kind: Kind, curlCode: Int? = nil, message: String, url: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
        self.url = url
    }

    public var description: String {
        let code = curlCode.map { " (curl error \($0))" } ?? ""
        return "\(message)\(code) for \(url)"
    }
}

/// HTTP over libcurl's multi interface: one background thread, one connection cache, async/await on top.
///
/// Create one per process and share it; connections to each host are reused across requests. Every request is
/// one attempt: no redirects are followed and nothing is retried here (the AWS pipeline owns retries).
/// Call `shutdown()` when done (deinit does it too); requests still in flight then fail with `.cancelled`.
public final class CurlTransport: HTTPTransport, Sendable {
    public let configuration: CurlTransportConfiguration
    private let loop: CurlMultiLoop

    /// Throws only if libcurl itself cannot be initialised.
    public init(configuration: CurlTransportConfiguration = CurlTransportConfiguration()) throws {
        self.configuration = configuration
        self.loop = try CurlMultiLoop(configuration: configuration)
    }

    deinit { loop.shutdown() }

    /// Sends the request and waits for the whole response. Cancelling the calling task removes the transfer
    /// from curl at once (closing its connection) and throws `.cancelled`.
    public func execute(_ request: HTTPRequest, options: HTTPRequestOptions = HTTPRequestOptions()) async throws
        -> HTTPResponse
    {
        try Self.validate(request, options)
        let transfer = CurlTransfer(request: request, options: options)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.setContinuation(continuation)
                loop.submit(transfer)
            }
        } onCancel: { [loop] in
            loop.cancel(transfer)
        }
    }

    /// Stops the background thread; pending and later requests fail with `.cancelled`. Safe to call twice.
    /// Blocks the caller until the curl thread has exited (normally well under a millisecond; longer only if a
    /// DNS lookup is in progress, which curl must wait for).
    public func shutdown() {
        loop.shutdown()
    }

    /// Catches what curl would misread or silently mangle, with an error that says what to fix.
    static func validate(_ request: HTTPRequest, _ options: HTTPRequestOptions) throws(HTTPTransportError) {
        let url = request.url
        let lower = url.prefix(8).lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw .invalid(url, "the URL must be absolute and start with https:// or http://")
        }
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalid(url, "the URL contains spaces or control characters; percent-encode them")
        }
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(Self.isTokenByte) else {
            throw .invalid(url, "HTTP method \"\(request.method)\" is not a valid token (letters such as GET, PUT)")
        }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalid(url, "header name \"\(header.name)\" is empty or has characters not allowed in a name")
            }
            guard !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                // The value is not echoed: it may be a token.
                throw .invalid(url, "the value of header \(header.name) contains a line break or NUL")
            }
        }
        guard options.maxResponseBytes >= 0 else {
            throw .invalid(url, "maxResponseBytes must not be negative (got \(options.maxResponseBytes))")
        }
        guard options.timeout > .zero, options.connectTimeout > .zero else {
            throw .invalid(url, "timeout and connectTimeout must be positive")
        }
    }

    /// RFC 9110 token characters: letters, digits and !#$%&'*+-.^_`|~.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}

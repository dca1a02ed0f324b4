import CCurl
import Foundation

/// One request in flight: its easy handle, what has arrived so far, and the continuation to resume.
///
/// The easy handle and the receive buffers are touched only by the multi thread. The continuation and the
/// cancelled flag are shared with the awaiting task and the cancellation handler, so they sit behind `lock`.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let options: HTTPRequestOptions

    // Shared state, guarded by `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<HTTPResponse, any Error>?
    private var cancelRequested = false

    // Multi-thread state.
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    var abort: HTTPTransportError.LocalAbort = .none
    var responseHeaders: [HTTPHeader] = []
    var body: [UInt8] = []

    init(request: HTTPRequest, options: HTTPRequestOptions) {
        self.request = request
        self.options = options
        let size = Int(clonectl_error_size())
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    // MARK: - Shared with the awaiting task

    func setContinuation(_ c: CheckedContinuation<HTTPResponse, any Error>) {
        lock.lock(); defer { lock.unlock() }
        continuation = c
    }

    /// Records that the awaiting task was cancelled; the multi thread checks it before it starts the transfer.
    func markCancelled() {
        lock.lock(); defer { lock.unlock() }
        cancelRequested = true
    }

    var isCancelRequested: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelRequested
    }

    /// Resumes the awaiting task. Only the first call has an effect, so every path may call it safely.
    func finish(_ result: Result<HTTPResponse, HTTPTransportError>) {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume(with: result.mapError { $0 as any Error })
    }

    // MARK: - Multi thread

    /// Creates and configures the easy handle. Returns an error instead when curl refuses an option.
    func prepare(configuration: CurlTransportConfiguration) -> HTTPTransportError? {
        guard let h = curl_easy_init() else {
            return HTTPTransportError(kind: .other, message: "curl_easy_init failed", url: redactedURL)
        }
        easy = h
        let me = Unmanaged.passUnretained(self).toOpaque()
        var failed: CURLcode = CURLE_OK
        func set(_ r: CURLcode) { if r != CURLE_OK && failed == CURLE_OK { failed = r } }

        set(clonectl_easy_setopt_string(h, CURLOPT_URL, request.url))
        set(clonectl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1))
        set(clonectl_easy_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(clonectl_easy_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0))
        set(clonectl_easy_setopt_long(h, CURLOPT_PATH_AS_IS, 1)) // the signed path goes out byte for byte
        set(clonectl_easy_setopt_long(h, CURLOPT_HTTP_VERSION, clonectl_http_version_1_1()))
        set(clonectl_easy_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1))
        if options.sendOnce {
            // curl re-sends only on a reused connection (Curl_retry_request checks conn->bits.reuse): a new one
            // makes any failure after the request went out surface here. The connection is then closed, so the
            // cache only ever holds connections that plain reads use.
            set(clonectl_easy_setopt_long(h, CURLOPT_FRESH_CONNECT, 1))
            set(clonectl_easy_setopt_long(h, CURLOPT_FORBID_REUSE, 1))
        }
        set(clonectl_easy_setopt_long(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        set(clonectl_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, Self.milliseconds(options.timeout)))
        set(clonectl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(options.connectTimeout)))
        set(clonectl_easy_setopt_off_t(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(max(0, options.maxResponseBytes))))
        set(clonectl_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer))
        set(clonectl_easy_setopt_datafn(h, CURLOPT_WRITEFUNCTION, curlWriteCallback))
        set(clonectl_easy_setopt_ptr(h, CURLOPT_WRITEDATA, me))
        set(clonectl_easy_setopt_datafn(h, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        set(clonectl_easy_setopt_ptr(h, CURLOPT_HEADERDATA, me))
        set(clonectl_easy_setopt_string(h, CURLOPT_USERAGENT, configuration.userAgent))
        // Always set: an empty proxy stops curl from consulting http_proxy & co. on its own.
        set(clonectl_easy_setopt_string(h, CURLOPT_PROXY, configuration.proxy(for: request.url)))
        if let noProxy = configuration.noProxy { set(clonectl_easy_setopt_string(h, CURLOPT_NOPROXY, noProxy)) }
        if let ca = configuration.caBundlePath { set(clonectl_easy_setopt_string(h, CURLOPT_CAINFO, ca)) }
        if configuration.verbose {
            set(clonectl_easy_setopt_long(h, CURLOPT_VERBOSE, 1))
            set(clonectl_easy_setopt_debugfn(h, CURLOPT_DEBUGFUNCTION, curlDebugCallback))
        }
        set(setMethodAndBody(h))
        set(setHeaders(h))
        guard failed == CURLE_OK else {
            return .fromCurl(failed, abort: .none, detail: "could not configure the request: "
                             + String(cString: curl_easy_strerror(failed)), url: request.url)
        }
        return nil
    }

    private func setMethodAndBody(_ h: UnsafeMutableRawPointer) -> CURLcode {
        let method = request.method.uppercased()
        var r = CURLE_OK
        func set(_ x: CURLcode) { if x != CURLE_OK && r == CURLE_OK { r = x } }
        if method == "HEAD" {
            set(clonectl_easy_setopt_long(h, CURLOPT_NOBODY, 1))
        } else if sendsBody {
            // Size first: otherwise COPYPOSTFIELDS uses strlen and a binary body stops at its first zero byte.
            set(clonectl_easy_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            set(request.body.withUnsafeBytes { raw in
                // curl copies the bytes now; an empty body still needs a valid pointer.
                clonectl_easy_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS,
                                         UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            })
        } else {
            set(clonectl_easy_setopt_long(h, CURLOPT_HTTPGET, 1))
        }
        if method != "GET" && method != "POST" && method != "HEAD" {
            set(clonectl_easy_setopt_string(h, CURLOPT_CUSTOMREQUEST, method))
        }
        return r
    }

    /// POST, PUT and PATCH always carry a body (possibly empty, so Content-Length: 0 goes out); other methods
    /// only when the caller gave one.
    private var sendsBody: Bool {
        let method = request.method.uppercased()
        return ["POST", "PUT", "PATCH"].contains(method) || (!request.body.isEmpty && method != "HEAD")
    }

    private func setHeaders(_ h: UnsafeMutableRawPointer) -> CURLcode {
        var lines = request.headers.map { header in
            // "Name:" would make curl drop the header; "Name;" sends it with an empty value.
            header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
        }
        let names = Set(request.headers.map { $0.name.lowercased() })
        // Without these, curl adds a form Content-Type to bodies and waits for 100-continue on large ones.
        if sendsBody && !names.contains("content-type") { lines.append("Content-Type:") }
        if !names.contains("expect") { lines.append("Expect:") }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else { return CURLE_OUT_OF_MEMORY }
            headerList = appended
        }
        return clonectl_easy_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
    }

    /// The message curl left in the error buffer for the last failure, if any.
    var errorDetail: String { String(cString: errorBuffer) }

    var redactedURL: String { HTTPTransportError.redactQuery(request.url) }

    /// Frees the easy handle and the header list; the handle must already be out of the multi handle.
    func releaseHandle() {
        if let h = easy { curl_easy_cleanup(h) }
        easy = nil
        if let list = headerList { curl_slist_free_all(list) }
        headerList = nil
    }

    /// curl treats 0 as "no timeout": never let a tiny Duration turn into that.
    static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        if ms.overflow || seconds > Int64(Int32.max) { return Int(Int32.max) }
        return max(1, Int(ms.partialValue + attoseconds / 1_000_000_000_000_000))
    }
}

import CCurl
import Foundation

/// The one thread that owns a `curl_multi` handle and drives every transfer of a transport.
///
/// Other threads never touch curl: they append to `incoming` / `cancelling` under `lock` and call
/// `curl_multi_wakeup`, which is the one multi call libcurl allows from another thread. Each transfer is
/// completed (and its continuation resumed) on this thread, so completion is naturally serial.
final class CurlMultiLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let configuration: CurlTransportConfiguration

    // Guarded by `lock`. The wakeup is also sent under it, so it can never race curl_multi_cleanup.
    private let lock = NSLock()
    private var incoming: [CurlTransfer] = []
    private var cancelling: [CurlTransfer] = []
    private var stopping = false
    private let exited = NSCondition()
    private var hasExited = false // guarded by `exited`

    // Multi thread only: the transfers curl currently owns, by easy handle.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(configuration: CurlTransportConfiguration) throws(HTTPTransportError) {
        guard CurlGlobal.initialized, let multi = curl_multi_init() else {
            throw HTTPTransportError(kind: .other, message: "libcurl could not be initialised", url: "")
        }
        self.multi = multi
        self.configuration = configuration
        let perHost = max(1, configuration.maxConnectionsPerHost)
        _ = clonectl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, perHost)
        // The idle-connection cache: room for a few hosts (EC2, SSM, STS, IMDS) at full width.
        _ = clonectl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(16, perHost * 4))
        let thread = Thread { [self] in run() }
        thread.name = "clonectl-curl-multi"
        thread.start()
    }

    /// Hands a transfer to the loop, or fails it at once when the transport has shut down.
    func submit(_ transfer: CurlTransfer) {
        lock.lock()
        if stopping {
            lock.unlock()
            transfer.finish(.failure(.cancelled(transfer.request.url, "the HTTP transport has been shut down")))
            return
        }
        incoming.append(transfer)
        curl_multi_wakeup(multi)
        lock.unlock()
    }

    /// Asks the loop to drop a transfer; harmless if it has already finished.
    func cancel(_ transfer: CurlTransfer) {
        transfer.markCancelled()
        lock.lock(); defer { lock.unlock() }
        guard !stopping else { return } // shutdown fails everything anyway
        cancelling.append(transfer)
        curl_multi_wakeup(multi)
    }

    /// Stops the thread after failing every pending transfer with `.cancelled`, and waits until it has exited.
    func shutdown() {
        lock.lock()
        if !stopping {
            stopping = true
            curl_multi_wakeup(multi)
        }
        lock.unlock()
        exited.lock()
        while !hasExited { exited.wait() }
        exited.unlock()
    }

    // MARK: - The multi thread

    private func run() {
        var running: Int32 = 0
        while true {
            lock.lock()
            let stop = stopping
            let added = incoming, cancelled = cancelling
            incoming.removeAll()
            cancelling.removeAll()
            lock.unlock()
            if stop {
                for t in added { t.finish(.failure(.cancelled(t.request.url, "the HTTP transport has been shut down"))) }
                break
            }
            for t in added { start(t) }
            // After the adds: a cancel that raced its own submit still finds the transfer here.
            for t in cancelled { if let h = t.easy, active[h] === t { finish(h, t, code: CURLE_ABORTED_BY_CALLBACK) } }
            _ = curl_multi_perform(multi, &running)
            drainFinished()
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for (h, t) in active { finish(h, t, code: CURLE_ABORTED_BY_CALLBACK, shutdown: true) }
        curl_multi_cleanup(multi)
        exited.lock()
        hasExited = true
        exited.broadcast()
        exited.unlock()
    }

    private func start(_ t: CurlTransfer) {
        if t.isCancelRequested {
            t.finish(.failure(.cancelled(t.request.url)))
            return
        }
        if let error = t.prepare(configuration: configuration) {
            t.releaseHandle()
            t.finish(.failure(error))
            return
        }
        guard let h = t.easy, curl_multi_add_handle(multi, h) == CURLM_OK else {
            t.releaseHandle()
            t.finish(.failure(HTTPTransportError(kind: .other, message: "curl_multi_add_handle failed",
                                                 url: t.redactedURL)))
            return
        }
        active[h] = t
    }

    private func drainFinished() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard clonectl_msg_done(msg) != 0, let h = clonectl_msg_easy(msg), let t = active[h] else { continue }
            finish(h, t, code: clonectl_msg_result(msg))
        }
    }

    /// Takes the transfer out of curl and resumes its task. Cancellation and shutdown come through here too,
    /// with `code` set to CURLE_ABORTED_BY_CALLBACK; removing the handle closes its connection mid-transfer.
    private func finish(_ h: UnsafeMutableRawPointer, _ t: CurlTransfer, code: CURLcode, shutdown: Bool = false) {
        curl_multi_remove_handle(multi, h)
        active[h] = nil
        var status = 0
        _ = clonectl_easy_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        let detail = t.errorDetail
        t.releaseHandle()
        if shutdown {
            t.finish(.failure(.cancelled(t.request.url, "the HTTP transport was shut down during the request")))
        } else if t.isCancelRequested {
            t.finish(.failure(.cancelled(t.request.url)))
        } else if code == CURLE_OK {
            let body = t.body
            t.body = []
            t.finish(.success(HTTPResponse(status: status, headers: t.responseHeaders, body: body)))
        } else {
            t.finish(.failure(.fromCurl(code, abort: t.abort, detail: detail, url: t.request.url)))
        }
    }
}

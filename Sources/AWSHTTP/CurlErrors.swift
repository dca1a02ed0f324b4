import CCurl
import COpenSSL
import Foundation

/// One-time process setup and the single place where curl results become `HTTPTransportError`s.
enum CurlGlobal {
    /// OpenSSL first, without its atexit handler (which races curl's threads at exit), then curl itself.
    /// A `static let` runs once, thread-safely, on first use.
    static let initialized: Bool = {
        _ = clonectl_openssl_init()
        return curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()
}

extension HTTPTransportError {
    /// Why the attempt was abandoned by our own callbacks rather than by the network.
    enum LocalAbort {
        case none, cancelled, responseTooLarge(limit: Int)
    }

    /// Maps a finished transfer's CURLcode to an error kind. `abort` says whether our callbacks stopped it,
    /// because curl reports those as generic write/callback errors (23, 42) or a size limit (63).
    static func fromCurl(_ code: CURLcode, abort: LocalAbort, detail: String, url: String) -> HTTPTransportError {
        let number = Int(code.rawValue)
        let redacted = redactQuery(url)
        switch abort {
        case .cancelled:
            return HTTPTransportError(kind: .cancelled, curlCode: number, message: "request cancelled", url: redacted)
        case .responseTooLarge(let limit):
            return HTTPTransportError(kind: .responseTooLarge, curlCode: number,
                                      message: "response body exceeds the \(limit)-byte limit", url: redacted)
        case .none:
            break
        }
        let kind: Kind
        switch number {
        case 6, 5: kind = .resolve        // 5: the proxy host did not resolve
        case 7: kind = .connect
        case 28: kind = .timeout
        case 35, 51, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: kind = .tls
        case 52: kind = .emptyReply
        case 55, 56, 18: kind = .sendReceive // 18: connection closed before the announced body ended
        case 3, 1, 43, 48: kind = .invalidRequest // malformed URL, unsupported scheme, bad option
        case 63: kind = .responseTooLarge
        default: kind = .other
        }
        var text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        // curl's messages name hosts, not queries; make sure a signed query can never ride along.
        if let q = url.firstIndex(of: "?"), url.index(after: q) < url.endIndex {
            let query = String(url[url.index(after: q)...])
            text = text.replacingOccurrences(of: query, with: "<query>")
        }
        return HTTPTransportError(kind: kind, curlCode: number, message: text, url: redacted)
    }

    static func cancelled(_ url: String, _ why: String = "request cancelled") -> HTTPTransportError {
        HTTPTransportError(kind: .cancelled, message: why, url: redactQuery(url))
    }

    static func invalid(_ url: String, _ why: String) -> HTTPTransportError {
        HTTPTransportError(kind: .invalidRequest, message: why, url: redactQuery(url))
    }

    /// The URL up to (not including) its query or fragment: signed queries carry credentials.
    /// Any `user:password@` is dropped too.
    static func redactQuery(_ url: String) -> String {
        var cut = url
        if let i = cut.firstIndex(where: { $0 == "?" || $0 == "#" }) { cut = String(cut[..<i]) }
        return CurlTransportConfiguration.redactUserInfo(cut)
    }
}

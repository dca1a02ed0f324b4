import Foundation
import Synchronization

/// Corrects for a local clock that is off, as the AWS SDKs do: when the service says the request time is skewed
/// and its `Date` header differs from ours by more than four minutes, later signatures use the service's time.
final class ClockSkew: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    static let skewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException", "SignatureDoesNotMatch",
        "AuthFailure",
    ]

    func corrected(_ now: Date) -> Date { now.addingTimeInterval(offset.withLock { $0 }) }

    /// Returns true when the offset changed, so the attempt is worth repeating with a fresh signature.
    func adjust(code: String, serverDate: String?, now: Date) -> Bool {
        guard Self.skewCodes.contains(code), let serverDate, let server = Self.parseHTTPDate(serverDate) else { return false }
        let skew = server.timeIntervalSince(now)
        guard abs(skew) > 240 else { return false }
        return offset.withLock { current in
            guard abs(current - skew) > 60 else { return false }
            current = skew
            return true
        }
    }

    /// RFC 7231 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parseHTTPDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)
    }
}

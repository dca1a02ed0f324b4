import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 UTC timestamps (`2026-12-01T21:37:00.123Z`) formatted and read with the C library, not a Foundation
/// date formatter: the ledger writes several per invocation, and a fleet step writes thousands.
public enum UTCTimestamp {
    /// With milliseconds (truncated) or to the second.
    public static func format(_ date: Date, fractional: Bool = true) -> String {
        let t = date.timeIntervalSince1970
        let seconds = t.rounded(.down)
        let millis = min(999, Int((t - seconds) * 1000))
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var out = pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
        if fractional { out += "." + pad(millis, 3) }
        return out + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count >= 20, u.last == UInt8(ascii: "Z"), u[4] == 0x2D, u[7] == 0x2D, u[10] == UInt8(ascii: "T"),
              u[13] == 0x3A, u[16] == 0x3A else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                value = value * 10 + Int(u[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if u.count > 20 {
            guard u[19] == UInt8(ascii: "."), u.count > 21 else { return nil }
            var scale = 0.1
            for i in 20..<(u.count - 1) {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                fraction += Double(u[i] - 0x30) * scale
                scale /= 10
            }
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        guard seconds != -1 || (year == 1969 && month == 12 && day == 31) else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

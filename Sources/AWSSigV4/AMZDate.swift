import Foundation

/// Civil-time formatting and parsing for SigV4 without DateFormatter: DateFormatter costs microseconds per call,
/// is locale/calendar sensitive, and is not what a signer on the hot path should depend on.
extension SigV4 {
    /// `yyyymmddThhmmssZ` in UTC (fractions of a second are dropped).
    public static func amzDate(_ date: Date) -> String {
        let bytes = amzDateBytes(date)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 16 ASCII bytes of `amzDate(date)`; the first 8 are the credential-scope date.
    static func amzDateBytes(_ date: Date) -> [UInt8] {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilFromDays(days)
        var out = [UInt8](repeating: UInt8(ascii: "0"), count: 16)
        func put(_ value: Int, at offset: Int, width: Int) {
            var v = value
            var i = offset + width - 1
            while i >= offset {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                i -= 1
            }
        }
        put(Int(year), at: 0, width: 4)
        put(month, at: 4, width: 2)
        put(day, at: 6, width: 2)
        out[8] = UInt8(ascii: "T")
        put(secondOfDay / 3600, at: 9, width: 2)
        put(secondOfDay / 60 % 60, at: 11, width: 2)
        put(secondOfDay % 60, at: 13, width: 2)
        out[15] = UInt8(ascii: "Z")
        return out
    }

    /// Parses `yyyy-mm-ddThh:mm:ssZ` (UTC, optional `.fff` fraction), the form AWS and the test vectors use.
    /// Returns nil for anything else, including out-of-range fields.
    public static func parseISO8601(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              b.last == UInt8(ascii: "Z") || b.last == UInt8(ascii: "z") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(c - UInt8(ascii: "0"))
            }
            return v
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var fraction = 0.0
        if b.count > 20 {
            // Only `.digits` may sit between the seconds and the `Z`.
            guard b[19] == UInt8(ascii: "."), b.count > 21, let f = number(20, b.count - 21) else { return nil }
            fraction = Double(f) / pow(10, Double(b.count - 21))
        } else if b.count != 20 {
            return nil
        }
        guard (1...12).contains(month), (1...daysInMonth(year, month)).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = daysFromCivil(Int64(year), month, day)
        let total = Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second)) + fraction
        return Date(timeIntervalSince1970: total)
    }

    private static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, day 0 = 1970-01-01).
    private static func daysFromCivil(_ y0: Int64, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

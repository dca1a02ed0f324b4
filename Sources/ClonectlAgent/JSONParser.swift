/// A strict RFC 8259 parser into `JSONValue`, keeping member order and telling integers from other numbers.
///
/// Strict on purpose: an envelope that only a lenient parser accepts is not what the payload wrote.
public enum JSONParser {
    /// Parses one JSON value filling the whole text (whitespace around it allowed).
    public static func parse(_ text: String) throws(AgentError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws(AgentError) -> JSONValue {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.atEnd else { throw reader.fail("unexpected text after the JSON value") }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var i = 0
        static let maxDepth = 64

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { i >= bytes.count }

        func fail(_ what: String) -> AgentError {
            AgentError(.badJSON, "invalid JSON at byte \(i): \(what)")
        }

        mutating func skipWhitespace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func expect(_ literal: String) throws(AgentError) {
            for b in literal.utf8 {
                guard i < bytes.count, bytes[i] == b else { throw fail("expected '\(literal)'") }
                i += 1
            }
        }

        mutating func value(depth: Int) throws(AgentError) -> JSONValue {
            guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth) levels") }
            guard i < bytes.count else { throw fail("unexpected end of text") }
            switch bytes[i] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character '\(Unicode.Scalar(bytes[i]))'")
            }
        }

        mutating func object(depth: Int) throws(AgentError) -> JSONValue {
            i += 1
            var members: [(String, JSONValue)] = []
            // A repeated name is refused: readers disagree on which copy wins (first here, last elsewhere), so a
            // duplicate could show one reader a different envelope from the one another reader judged.
            var names: Set<String> = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let keyStart = i
                let key = try string()
                guard names.insert(key).inserted else {
                    i = keyStart
                    throw fail("member name \"\(key.prefix(40))\" appears twice in one object")
                }
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(AgentError) -> JSONValue {
            i += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard i < bytes.count else { throw fail("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func number() throws(AgentError) -> JSONValue {
            let start = i
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a number needs digits") }
            if bytes[i] == UInt8(ascii: "0") {
                i += 1
                if i < bytes.count, isDigit(bytes[i]) { throw fail("leading zeros are not allowed") }
            } else {
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            }
            var integral = true
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                integral = false
                i += 1
                guard i < bytes.count, isDigit(bytes[i]) else { throw fail("a fraction needs digits") }
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                integral = false
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard i < bytes.count, isDigit(bytes[i]) else { throw fail("an exponent needs digits") }
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if integral, let value = Int64(text) { return .int(value) }
            return .number(text)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

        mutating func string() throws(AgentError) -> String {
            i += 1
            var units: [UInt16] = []
            var runStart = i
            // Runs of plain bytes are decoded as UTF-8 at once; escapes are collected as UTF-16 units.
            func flush(_ r: inout Reader, _ units: inout [UInt16], upTo end: Int) {
                units.append(contentsOf: String(decoding: r.bytes[runStart..<end], as: UTF8.self).utf16)
            }
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    flush(&self, &units, upTo: i)
                    i += 1
                    return String(decoding: units, as: UTF16.self)
                }
                if b < 0x20 { throw fail("a control character must be escaped in a string") }
                if b != UInt8(ascii: "\\") { i += 1; continue }
                flush(&self, &units, upTo: i)
                i += 1
                guard i < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): units.append(0x22)
                case UInt8(ascii: "\\"): units.append(0x5C)
                case UInt8(ascii: "/"): units.append(0x2F)
                case UInt8(ascii: "b"): units.append(0x08)
                case UInt8(ascii: "f"): units.append(0x0C)
                case UInt8(ascii: "n"): units.append(0x0A)
                case UInt8(ascii: "r"): units.append(0x0D)
                case UInt8(ascii: "t"): units.append(0x09)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count,
                          let unit = UInt16(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16)
                    else { throw fail("\\u needs four hex digits") }
                    units.append(unit)
                    i += 4
                default: throw fail("unknown escape '\\\(Unicode.Scalar(e))'")
                }
                runStart = i
            }
        }
    }
}

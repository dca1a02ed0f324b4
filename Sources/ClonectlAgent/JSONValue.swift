/// A JSON value that keeps object members in their order, so an envelope can be written back byte for byte.
///
/// Foundation's JSONSerialization loses member order and blurs booleans into numbers on Linux; the envelope
/// hash is over exact bytes and the writer must reproduce the PowerShell module's order, hence this small type.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// A number with a fraction or exponent, kept as its source text so re-writing it changes nothing.
    /// Writers of the envelope never produce one: CloneAgent writes non-integer numbers as strings
    /// (.NET's round-trip `R` format), so build such values as `.string`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The first member named `key` of an object; nil for other values or a missing member.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectMembers: [(String, JSONValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// An object's members as a dictionary (the last of duplicate names wins, as in most parsers).
    public var dictionaryValue: [String: JSONValue]? {
        objectMembers.map { Dictionary($0, uniquingKeysWith: { _, last in last }) }
    }
}

/// The one JSON writer of the envelope format (agent-docs/envelope.md, "Serialisation rules").
///
/// Compact; members in the given order; `\" \\ \b \f \n \r \t` as short escapes; every other control character
/// and every character above U+007E as `\uXXXX` with lower-case hex over UTF-16 code units (so astral characters
/// become surrogate pairs); `/ < > ' &` as themselves. The output is therefore pure ASCII and survives any
/// Windows console code page. PowerShell's CloneAgent module and the Python simulator write the same bytes.
public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let text): out += text
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, item)) in members.enumerated() {
                if i > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(item, into: &out)
            }
            out += "}"
        }
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// One JSON string literal under the same rules (ASCII only; control characters escaped).
    public static func encodeString(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                out += "\\u"
                for shift in stride(from: 12, through: 0, by: -4) {
                    out.append(hexDigits[Int((unit >> UInt16(shift)) & 0xF)])
                }
            }
        }
        out += "\""
    }
}

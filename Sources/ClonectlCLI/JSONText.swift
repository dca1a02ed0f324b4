import ClonectlAgent

/// How `--output json` documents are written: two-space indentation, members in the order they were built (a
/// document reads top-down: what, then how it went, then details), strings ASCII with every control character
/// escaped (so a guest's or AWS's text can never drive the terminal through a JSON document), `/` not escaped.
enum JSONText {
    static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1), close = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                write(item, indent: indent + 1, into: &out)
                out += i < items.count - 1 ? ",\n" : "\n"
            }
            out += close + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, (key, item)) in members.enumerated() {
                out += pad + CanonicalJSON.encodeString(key) + ": "
                write(item, indent: indent + 1, into: &out)
                out += i < members.count - 1 ? ",\n" : "\n"
            }
            out += close + "}"
        default:
            out += CanonicalJSON.encode(value)
        }
    }
}

/// Building JSON objects member by member, leaving out what is unknown only where the schema says a member is optional.
struct JSONObject {
    private(set) var members: [(String, JSONValue)] = []

    init(_ members: [(String, JSONValue)] = []) { self.members = members }

    mutating func set(_ key: String, _ value: JSONValue) {
        if let i = members.firstIndex(where: { $0.0 == key }) { members[i].1 = value } else { members.append((key, value)) }
    }

    /// Sets `key` only when `value` is known.
    mutating func set(_ key: String, ifPresent value: JSONValue?) {
        if let value { set(key, value) }
    }

    var value: JSONValue { .object(members) }
}

extension JSONValue {
    /// A string, or null when there is none.
    static func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    static func integer(_ i: Int?) -> JSONValue { i.map { .int(Int64($0)) } ?? .null }
    static func strings(_ list: [String]) -> JSONValue { .array(list.map(JSONValue.string)) }
    /// Seconds with millisecond precision, as a JSON number.
    static func seconds(_ d: Double) -> JSONValue { .number(String(format: "%.3f", d)) }
}

extension JSONValue {
    /// A Foundation-style value ([String: Any] with sorted keys, arrays, strings, numbers, booleans, nil as null).
    static func foundation(_ any: Any?) -> JSONValue {
        switch any {
        case nil: return .null
        case let v as JSONValue: return v
        case let v as String: return .string(v)
        case let v as Bool: return .bool(v)
        case let v as Int: return .int(Int64(v))
        case let v as Int64: return .int(v)
        case let v as Double: return .number(String(v))
        case let v as [Any]: return .array(v.map { foundation($0) })
        case let v as [String: Any]: return .object(v.keys.sorted().map { ($0, foundation(v[$0])) })
        case let v as Optional<Any>:
            if let inner = v { return foundation(inner) }
            return .null
        default: return .string("\(any!)")
        }
    }
}

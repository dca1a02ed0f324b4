/// The AWS Query protocol's request body (EC2 and STS): `Action=...&Version=...&Key.1=value`,
/// in the order built, each key and value percent-encoded with RFC 3986's unreserved set.
public struct QueryParameters: Sendable, Equatable {
    public private(set) var pairs: [(String, String)] = []

    public init(action: String, version: String) {
        pairs.append(("Action", action))
        pairs.append(("Version", version))
    }

    public static func == (a: QueryParameters, b: QueryParameters) -> Bool {
        a.pairs.elementsEqual(b.pairs) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Adds `key=value` when value is present.
    public mutating func add(_ key: String, _ value: String?) {
        if let value { pairs.append((key, value)) }
    }

    public mutating func add(_ key: String, _ value: Int?) { add(key, value.map(String.init)) }

    public mutating func add(_ key: String, _ value: Bool?) { add(key, value.map { $0 ? "true" : "false" }) }

    /// EC2's flattened list: `InstanceId.1=a&InstanceId.2=b`. Lists start at 1.
    public mutating func addList(_ prefix: String, _ values: [String]) {
        for (i, v) in values.enumerated() { pairs.append(("\(prefix).\(i + 1)", v)) }
    }

    /// A list of structures: `prefix.N.` followed by the member's own keys.
    public mutating func addStructList<T>(_ prefix: String, _ values: [T], _ member: (inout QueryParameters.Scope, T) -> Void) {
        for (i, v) in values.enumerated() {
            var scope = Scope(prefix: "\(prefix).\(i + 1)", target: self)
            member(&scope, v)
            self = scope.target
        }
    }

    /// Keys added through a scope get its prefix.
    public struct Scope {
        let prefix: String
        var target: QueryParameters
        public mutating func add(_ key: String, _ value: String?) { target.add("\(prefix).\(key)", value) }
        public mutating func add(_ key: String, _ value: Int?) { target.add("\(prefix).\(key)", value) }
        public mutating func add(_ key: String, _ value: Bool?) { target.add("\(prefix).\(key)", value) }
        public mutating func addList(_ key: String, _ values: [String]) { target.addList("\(prefix).\(key)", values) }
        public mutating func addStructList<T>(_ key: String, _ values: [T], _ member: (inout Scope, T) -> Void) {
            target.addStructList("\(prefix).\(key)", values, member)
        }
    }

    /// The form body, `application/x-www-form-urlencoded; charset=utf-8`, encoded as the AWS SDKs encode it
    /// (space as `+`). AWS hashes the raw bytes either way, but servers that re-encode the parsed form to check
    /// the payload hash (moto among them) only agree with this spelling.
    public var encoded: String {
        pairs.map { "\(PercentEncoding.encode($0.0, spaceAsPlus: true))=\(PercentEncoding.encode($0.1, spaceAsPlus: true))" }
            .joined(separator: "&")
    }
}

/// RFC 3986 percent-encoding as AWS wants it: everything but `A-Z a-z 0-9 - _ . ~`, upper-case hex.
public enum PercentEncoding {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    public static func encode(_ s: String, spaceAsPlus: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: " ") where spaceAsPlus:
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

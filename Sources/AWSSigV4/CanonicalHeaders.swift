/// Canonical headers and the signed-headers list, built on UTF-8 bytes.
///
/// Names are lower-cased (ASCII), values trimmed with internal whitespace runs (including folded line breaks)
/// collapsed to one space, repeated names joined with `,` in the order they were given, lines sorted by name.
enum CanonicalHeaders {
    struct Entry {
        var name: [UInt8]
        var value: [UInt8]
        var order: Int
    }

    /// Lower-cased ASCII bytes of a header name (non-ASCII bytes are copied; they are invalid in names anyway).
    static func lowercasedName(_ name: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(name.utf8.count)
        for b in name.utf8 {
            out.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
        }
        return out
    }

    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d
    }

    /// The value trimmed, with each internal whitespace run replaced by one space.
    static func foldedValue(_ value: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for b in value.utf8 {
            if isSpace(b) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(b)
            }
        }
        return out
    }

    /// Appends `name:value\n` lines to `canonical` and `a;b;c` to `signed`.
    static func append(_ entries: inout [Entry], canonical: inout [UInt8], signed: inout [UInt8]) {
        // Sort by name; the original order breaks ties so repeated headers keep their order.
        entries.sort { a, b in
            a.name == b.name ? a.order < b.order : a.name.lexicographicallyPrecedes(b.name)
        }
        var i = 0
        while i < entries.count {
            let name = entries[i].name
            if !signed.isEmpty { signed.append(UInt8(ascii: ";")) }
            signed.append(contentsOf: name)
            canonical.append(contentsOf: name)
            canonical.append(UInt8(ascii: ":"))
            canonical.append(contentsOf: entries[i].value)
            i += 1
            while i < entries.count && entries[i].name == name {
                canonical.append(UInt8(ascii: ","))
                canonical.append(contentsOf: entries[i].value)
                i += 1
            }
            canonical.append(UInt8(ascii: "\n"))
        }
    }
}

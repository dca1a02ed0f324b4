/// Canonical headers and the signed-headers list, built on UTF-8 bytes.
///
/// Names are lower-cased (ASCII), values trimmed with internal whitespace runs (including folded line breaks)
/// collapsed to one space, repeated names joined with `,` in the order they were given, lines sorted by name.
/// All names and values live back to back in one scratch buffer: a request has a handful of headers, and two
/// small arrays per header cost more in allocation than the rest of the canonicalisation.
struct CanonicalHeaders {
    private struct Entry {
        var nameStart: Int
        var nameEnd: Int
        var valueEnd: Int
        var order: Int
    }

    private var scratch: [UInt8] = []
    private var entries: [Entry] = []

    init(capacity: Int) {
        scratch.reserveCapacity(capacity * 48)
        entries.reserveCapacity(capacity)
    }

    /// Lower-cases `name` into the scratch buffer and returns its bytes' range, pending `commit` or `discard`.
    /// Bytes are copied in bulk and rewritten in place: appending byte by byte costs a uniqueness check each.
    mutating func stageName(_ name: String) -> Range<Int> {
        let start = scratch.count
        var name = name
        name.withUTF8 { scratch.append(contentsOf: $0) }
        let end = scratch.count
        scratch.withUnsafeMutableBufferPointer { s in
            for i in start..<end where s[i] >= UInt8(ascii: "A") && s[i] <= UInt8(ascii: "Z") {
                s[i] |= 0x20
            }
        }
        return start..<end
    }

    /// Calls `body` with the staged name's bytes.
    func withName<R>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        scratch.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// Drops a staged name that is not to be signed.
    mutating func discard(_ range: Range<Int>) {
        scratch.removeSubrange(range.lowerBound...)
    }

    /// Signs the staged name with `value`, trimmed and with each internal whitespace run folded to one space.
    /// The value is copied in bulk, then folded in place (the write position never passes the read position).
    /// `fold: false` is for the signer's own values (date, token, hash), which hold no whitespace.
    mutating func commit(_ range: Range<Int>, value: String, fold: Bool = true) {
        let start = scratch.count
        var value = value
        value.withUTF8 { scratch.append(contentsOf: $0) }
        let end = scratch.count
        guard fold else {
            entries.append(Entry(nameStart: range.lowerBound, nameEnd: range.upperBound, valueEnd: end,
                                 order: entries.count))
            return
        }
        let folded: Int = scratch.withUnsafeMutableBufferPointer { s in
            var write = start
            var pendingSpace = false
            for read in start..<end {
                let b = s[read]
                if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
                    pendingSpace = write > start
                } else {
                    if pendingSpace {
                        s[write] = 0x20
                        write += 1
                        pendingSpace = false
                    }
                    s[write] = b
                    write += 1
                }
            }
            return write
        }
        if folded < end { scratch.removeSubrange(folded..<end) }
        entries.append(Entry(nameStart: range.lowerBound, nameEnd: range.upperBound, valueEnd: folded,
                             order: entries.count))
    }

    /// Appends `name:value\n` lines to `canonical` and `a;b;c` to `signed`.
    mutating func append(canonical: inout [UInt8], signed: inout [UInt8]) {
        scratch.withUnsafeBufferPointer { s in
            func name(_ e: Entry) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: s[e.nameStart..<e.nameEnd])
            }
            // Sort by name; the original order breaks ties so repeated headers keep their order.
            entries.sort { a, b in
                let x = name(a), y = name(b)
                if x.elementsEqual(y) { return a.order < b.order }
                return x.lexicographicallyPrecedes(y)
            }
            var i = 0
            while i < entries.count {
                let first = name(entries[i])
                if !signed.isEmpty { signed.append(UInt8(ascii: ";")) }
                signed.append(contentsOf: first)
                canonical.append(contentsOf: first)
                canonical.append(UInt8(ascii: ":"))
                canonical.append(contentsOf: s[entries[i].nameEnd..<entries[i].valueEnd])
                i += 1
                while i < entries.count && name(entries[i]).elementsEqual(first) {
                    canonical.append(UInt8(ascii: ","))
                    canonical.append(contentsOf: s[entries[i].nameEnd..<entries[i].valueEnd])
                    i += 1
                }
                canonical.append(UInt8(ascii: "\n"))
            }
        }
    }
}

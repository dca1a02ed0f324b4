import ClonectlCrypto
/// The canonical URI and canonical query string, built on UTF-8 bytes.
///
/// SigV4 encodes everything except the unreserved set `A-Z a-z 0-9 - . _ ~` as `%XX` with upper-case hex,
/// which is stricter than RFC 3986 (`/`, `=`, `+`, `*` are all encoded), so no Foundation helper does it.
enum URIEncoding {
    /// Flag per byte: true when the byte is unreserved and is copied as is.
    private static let unreserved: [Bool] = (0..<256).map { b in
        switch UInt8(b) {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): return true
        default: return false
        }
    }
    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends `bytes` encoded; with `keepPercent` an existing `%` is copied (the input is already encoded once).
    static func append<C: Collection>(_ bytes: C, keepPercent: Bool = false, to out: inout [UInt8])
        where C.Element == UInt8 {
        for b in bytes {
            if unreserved[Int(b)] || (keepPercent && b == UInt8(ascii: "%")) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(b >> 4)])
                out.append(upperHex[Int(b & 0x0f)])
            }
        }
    }

    /// Appends the canonical URI of a wire path (see `SigV4Options.normalizePath` and `uriEncodePath`).
    static func appendCanonicalURI(_ path: UnsafeBufferPointer<UInt8>, normalize: Bool, encode: Bool,
                                   to out: inout [UInt8]) {
        let slash = UInt8(ascii: "/")
        if path.isEmpty || (path.count == 1 && path[0] == slash) {
            out.append(slash)
            return
        }
        if path[0] != slash { out.append(slash) }
        guard normalize else {
            // Segments are encoded; the slashes between them (even repeated ones) are kept.
            var start = 0
            for i in 0...path.count {
                if i == path.count || path[i] == slash {
                    append(path[start..<i], keepPercent: !encode, to: &out)
                    if i < path.count { out.append(slash) }
                    start = i + 1
                }
            }
            return
        }
        // RFC 3986 dot-segment removal, and empty segments dropped (what aws-c-auth and botocore do).
        var segments: [Range<Int>] = []
        var start = 0
        for i in 0...path.count {
            guard i == path.count || path[i] == slash else { continue }
            let segment = start..<i
            start = i + 1
            if segment.isEmpty || (segment.count == 1 && path[segment.lowerBound] == UInt8(ascii: ".")) {
                continue
            }
            if segment.count == 2 && path[segment.lowerBound] == UInt8(ascii: ".")
                && path[segment.lowerBound + 1] == UInt8(ascii: ".") {
                _ = segments.popLast()
                continue
            }
            segments.append(segment)
        }
        if path[0] == slash { out.append(slash) }
        for (n, segment) in segments.enumerated() {
            if n > 0 { out.append(slash) }
            append(path[segment], keepPercent: !encode, to: &out)
        }
        // A trailing slash is significant ("/a/" is not "/a"), unless nothing is left but the root.
        if !segments.isEmpty && path[path.count - 1] == slash { out.append(slash) }
    }

    /// Appends the canonical query: each `key=value` decoded (`%XX`, and `+` as space, as form encoding and the
    /// Go SDK read it), encoded strictly, then sorted by key and then value. A key without `=` gets an empty value.
    static func appendCanonicalQuery(_ query: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard !query.isEmpty else { return }
        var pairs: [(key: [UInt8], value: [UInt8])] = []
        var start = 0
        for i in 0...query.count {
            guard i == query.count || query[i] == UInt8(ascii: "&") else { continue }
            let piece = query[start..<i]
            start = i + 1
            if piece.isEmpty { continue }
            let equals = piece.firstIndex(of: UInt8(ascii: "=")) ?? piece.endIndex
            var key: [UInt8] = []
            var value: [UInt8] = []
            append(decode(piece[piece.startIndex..<equals]), to: &key)
            if equals < piece.endIndex { append(decode(piece[(equals + 1)..<piece.endIndex]), to: &value) }
            pairs.append((key, value))
        }
        pairs.sort { a, b in
            a.key == b.key ? a.value.lexicographicallyPrecedes(b.value) : a.key.lexicographicallyPrecedes(b.key)
        }
        for (n, pair) in pairs.enumerated() {
            if n > 0 { out.append(UInt8(ascii: "&")) }
            out.append(contentsOf: pair.key)
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: pair.value)
        }
    }

    /// Percent-decoding; a `%` not followed by two hex digits is kept literally (it is then encoded as `%25`).
    static func decode(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), i + 2 < bytes.endIndex,
               let hi = Hex.nibble(bytes[i + 1]), let lo = Hex.nibble(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                i += 1
            }
        }
        return out
    }
}

import ClonectlCrypto

/// The hashing a signature needs, shaped for speed: hex straight into byte buffers, and HMAC under a cached
/// signing key done as two SHA-256s over precomputed key pads (RFC 2104).
///
/// Why not `Crypto.hmacSHA256`: OpenSSL's EVP_MAC re-parses the digest name and allocates a context per call
/// (about 1.6 µs, the largest single cost of a signature). With the pads cached beside the key, the inner hash
/// runs over `ipad || stringToSign` built in one buffer and the outer over `opad || inner`: two one-shot digests.
struct SigningKey: Sendable {
    /// kSigning, as the spec names it.
    let bytes: [UInt8]
    /// 64-byte blocks: key XOR 0x36 and key XOR 0x5c.
    let innerPad: [UInt8]
    let outerPad: [UInt8]

    init(_ key: [UInt8]) {
        precondition(key.count <= 64, "an HMAC-SHA256 key longer than a block must be hashed first")
        bytes = key
        var inner = [UInt8](repeating: 0x36, count: 64)
        var outer = [UInt8](repeating: 0x5c, count: 64)
        for (i, b) in key.enumerated() {
            inner[i] ^= b
            outer[i] ^= b
        }
        innerPad = inner
        outerPad = outer
    }

    /// HMAC-SHA256 of `message[64...]`, whose first 64 bytes the caller reserved: they are overwritten with the
    /// inner pad, so the message is never copied.
    func mac(overwritingPrefixOf message: inout [UInt8]) -> [UInt8] {
        message.withUnsafeMutableBufferPointer { m in
            innerPad.withUnsafeBufferPointer { pad in
                _ = UnsafeMutableBufferPointer(rebasing: m[0..<64]).initialize(from: pad)
            }
        }
        let inner = Crypto.sha256(message)
        var outer = outerPad
        outer.append(contentsOf: inner)
        return Crypto.sha256(outer)
    }
}

enum HexBytes {
    private static let digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102)  // "0123456789abcdef"

    /// Appends lower-case hex of `bytes` to `out`, growing it once.
    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bytes.count * 2))
        withUnsafeBytes(of: digits) { hex in
            out.withUnsafeMutableBufferPointer { o in
                bytes.withUnsafeBufferPointer { b in
                    var j = start
                    for byte in b {
                        o[j] = hex[Int(byte >> 4)]
                        o[j + 1] = hex[Int(byte & 0x0f)]
                        j += 2
                    }
                }
            }
        }
    }

    static func string(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            withUnsafeBytes(of: digits) { hex in
                var j = 0
                for byte in bytes {
                    out[j] = hex[Int(byte >> 4)]
                    out[j + 1] = hex[Int(byte & 0x0f)]
                    j += 2
                }
            }
            return bytes.count * 2
        }
    }
}

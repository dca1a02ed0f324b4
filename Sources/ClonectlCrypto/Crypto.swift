import COpenSSL
import Foundation

/// SHA-256 and HMAC-SHA256 on OpenSSL 3's libcrypto.
///
/// Algorithms are fetched once and shared: a fetched `EVP_MD` / `EVP_MAC` is immutable and thread-safe,
/// but `OpaquePointer` is not `Sendable`, hence `nonisolated(unsafe)`.
public enum Crypto {
    nonisolated(unsafe) private static let sha256MD: OpaquePointer = {
        _ = clonectl_openssl_init()
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else {
            fatalError("OpenSSL has no SHA256: \(CryptoError.drain())")
        }
        return md
    }()

    nonisolated(unsafe) private static let hmacMAC: OpaquePointer = {
        _ = clonectl_openssl_init()
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            fatalError("OpenSSL has no HMAC: \(CryptoError.drain())")
        }
        return mac
    }()

    /// Initialises libcrypto with no atexit handler. Call before curl_global_init (see NATIVE.md).
    public static func initialize() {
        _ = clonectl_openssl_init()
    }

    /// SHA-256 of `bytes`.
    public static func sha256<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var outLength: UInt32 = 0
        let ok = bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(raw.baseAddress, raw.count, o.baseAddress, &outLength, sha256MD, nil)
            }
        }
        precondition(ok == 1 && outLength == 32, "EVP_Digest(SHA256) failed: \(CryptoError.drain())")
        return out
    }

    /// SHA-256 of the UTF-8 bytes of `string`.
    public static func sha256(_ string: String) -> [UInt8] {
        var s = string
        return s.withUTF8 { sha256(UnsafeRawBufferPointer($0)) }
    }

    /// HMAC-SHA256 of `data` under `key`.
    public static func hmacSHA256<K: ContiguousBytes, D: ContiguousBytes>(key: K, data: D) -> [UInt8] {
        guard let ctx = EVP_MAC_CTX_new(hmacMAC) else {
            preconditionFailure("EVP_MAC_CTX_new failed: \(CryptoError.drain())")
        }
        defer { EVP_MAC_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: 32)
        var outLength = 0
        // OSSL_PARAM_construct_utf8_string keeps the pointer: the buffer stays pinned across EVP_MAC_init.
        let ok: Bool = "SHA256".withCString { digestName in
            var params = [
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, UnsafeMutablePointer(mutating: digestName), 0),
                OSSL_PARAM_construct_end(),
            ]
            return key.withUnsafeBytes { k in
                // A zero-length key still needs a non-null pointer.
                var empty: UInt8 = 0
                let keyPtr = k.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafePointer(to: &empty) { $0 }
                guard EVP_MAC_init(ctx, keyPtr, k.count, &params) == 1 else { return false }
                let updated = data.withUnsafeBytes { d in
                    EVP_MAC_update(ctx, d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count) == 1
                }
                guard updated else { return false }
                return out.withUnsafeMutableBufferPointer { o in
                    EVP_MAC_final(ctx, o.baseAddress, &outLength, 32) == 1
                }
            }
        }
        precondition(ok && outLength == 32, "HMAC-SHA256 failed: \(CryptoError.drain())")
        return out
    }

    /// HMAC-SHA256 of the UTF-8 bytes of `string`.
    public static func hmacSHA256<K: ContiguousBytes>(key: K, string: String) -> [UInt8] {
        var s = string
        return s.withUTF8 { hmacSHA256(key: key, data: UnsafeRawBufferPointer($0)) }
    }
}

/// Lower-case hexadecimal.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hexadecimal (either case); nil when the text is not hex of even length.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// The value of one hexadecimal digit (either case); nil for any other byte.
    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// An OpenSSL failure with the library's error queue drained into it.
public struct CryptoError: Error, CustomStringConvertible {
    public let operation: String
    public let details: String
    public var description: String { "\(operation) failed: \(details)" }

    /// Empties libcrypto's thread-local error queue into one line.
    public static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [UInt8](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
                    ERR_error_string_n(code, $0, b.count)
                }
            }
            parts.append(String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self))
        }
        return parts.isEmpty ? "no OpenSSL error recorded" : parts.joined(separator: "; ")
    }
}

import AWSCredentials
import Foundation

/// Where an object's request goes: virtual-hosted style (`bucket.s3.REGION.amazonaws.com/key`) or path style
/// (`host/bucket/key`), as the AWS SDKs choose (S3 user guide, "Virtual hosting of buckets"; botocore's
/// addressing_style). Pure: the resolved endpoint, region and settings in, scheme+host and wire path out.
public enum S3Addressing {
    public struct Location: Sendable, Equatable {
        /// Scheme, host and port (the endpoint's base path, if any, is in `path`).
        public var base: String
        /// The wire path: percent-encoded once, `/` kept (S3 keys are not normalised: `a//b` and `a/./b` are keys).
        public var path: String
        public var virtualHosted: Bool
    }

    /// The location of `key` in `bucket` (key empty: the bucket itself).
    ///
    /// - AWS's own endpoint: us-east-1 uses the global host s3.amazonaws.com unless `usEast1Regional`; other regions
    ///   s3.REGION.DNS-SUFFIX (FIPS: s3-fips). Virtual-hosted unless the style is `path` or the bucket name cannot
    ///   be a host label under TLS (not DNS-compatible, or with dots: the wildcard certificate covers one label).
    /// - A configured endpoint (AWS_ENDPOINT_URL_S3, `[services]`, --endpoint-url): path style unless the style is
    ///   `virtual`; with `auto`, virtual only for a DNS name host (never an IP address or localhost) and a bucket
    ///   that fits a host label.
    public static func locate(bucket: String, key: String, endpoint: ResolvedEndpoint, region: String,
                              settings: S3Settings) -> Location {
        let isDefault = endpoint.source.hasPrefix("default")
        var host = endpoint.host
        var baseURL = endpoint.url
        if isDefault, region == "us-east-1", !settings.usEast1Regional, host == "s3.us-east-1.amazonaws.com" {
            host = "s3.amazonaws.com"
            baseURL = "https://s3.amazonaws.com"
        }
        guard let parts = URLComponents(string: baseURL), let scheme = parts.scheme else {
            return Location(base: baseURL, path: "/" + bucket + "/" + encodeKey(key), virtualHosted: false)
        }
        let port = parts.port.map { ":\($0)" } ?? ""
        let basePath = parts.percentEncodedPath.hasSuffix("/") ? String(parts.percentEncodedPath.dropLast())
            : parts.percentEncodedPath
        let tls = scheme == "https"
        let virtual: Bool
        switch settings.addressingStyle {
        case .path: virtual = false
        case .virtual: virtual = isHostLabel(bucket)
        case .auto:
            let hostAllows = isDefault || !(EndpointResolver.isLoopback(host) || isIPAddress(host))
            virtual = hostAllows && isHostLabel(bucket) && !(tls && bucket.contains("."))
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let encoded = encodeKey(key)
        if virtual {
            return Location(base: "\(scheme)://\(bucket).\(hostPart)\(port)", path: basePath + "/" + encoded,
                            virtualHosted: true)
        }
        return Location(base: "\(scheme)://\(hostPart)\(port)",
                        path: basePath + "/" + bucket + (key.isEmpty ? "" : "/" + encoded), virtualHosted: false)
    }

    /// A bucket name that can be the first labels of a host name: 3-63 lower-case letters, digits, `-` and `.`,
    /// letters or digits at both ends and around each dot, not an IPv4 address.
    public static func isHostLabel(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count), !isIPAddress(bucket) else { return false }
        let labels = bucket.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard let first = label.utf8.first, let last = label.utf8.last else { return false }
            func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
            return alnum(first) && alnum(last) && label.utf8.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return (octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }) || host.contains(":")
    }

    /// An object key as S3 wants it on the wire and in the canonical request: every byte but the unreserved
    /// characters and `/` percent-encoded (upper-case hex), once.
    public static func encodeKey(_ key: String) -> String {
        var out = ""
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

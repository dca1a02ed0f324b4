/// Process-wide settings of a `CurlTransport`: trust, proxies, connection limits.
///
/// Every value is explicit. curl would otherwise read `http_proxy` and friends from the environment by itself;
/// the transport always sets CURLOPT_PROXY (empty when there is no proxy) so that only this struct decides.
public struct CurlTransportConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// PEM bundle of trusted CAs (AWS_CA_BUNDLE -> CURLOPT_CAINFO). Nil: the system store.
    public var caBundlePath: String?
    /// Proxy for https:// URLs (HTTPS_PROXY), e.g. `http://proxy.corp:3128`. Nil: direct.
    public var proxy: String?
    /// Proxy for plain http:// URLs (HTTP_PROXY), such as the instance metadata endpoint. Nil: direct.
    public var httpProxy: String?
    /// Hosts that bypass the proxy, comma-separated in curl's NO_PROXY syntax (CURLOPT_NOPROXY).
    public var noProxy: String?
    /// Open connections per host; further requests to that host queue inside curl until one frees up.
    public var maxConnectionsPerHost: Int
    public var userAgent: String
    /// Writes curl's connection trace to stderr, with credentials and tokens redacted. Off by default:
    /// curl prints nothing otherwise.
    public var verbose: Bool

    public init(caBundlePath: String? = nil, proxy: String? = nil, httpProxy: String? = nil, noProxy: String? = nil,
                maxConnectionsPerHost: Int = 16, userAgent: String = "clonectl/0.1", verbose: Bool = false) {
        self.caBundlePath = caBundlePath
        self.proxy = proxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.userAgent = userAgent
        self.verbose = verbose
    }

    /// Reads HTTPS_PROXY/https_proxy, HTTP_PROXY/http_proxy, NO_PROXY/no_proxy and AWS_CA_BUNDLE.
    /// The upper-case name wins (as in Go's ProxyFromEnvironment, which the Go SDK uses); empty values count
    /// as unset. Anything else (verbose, limits) keeps its default.
    public static func fromEnvironment(_ env: [String: String]) -> CurlTransportConfiguration {
        func value(_ names: String...) -> String? {
            for name in names {
                if let v = env[name]?.trimmingSpaces(), !v.isEmpty { return v }
            }
            return nil
        }
        return CurlTransportConfiguration(
            caBundlePath: value("AWS_CA_BUNDLE"),
            proxy: value("HTTPS_PROXY", "https_proxy"),
            httpProxy: value("HTTP_PROXY", "http_proxy"),
            noProxy: value("NO_PROXY", "no_proxy"))
    }

    /// The proxy curl should use for this URL, by scheme; "" means none (and stops curl reading the environment).
    func proxy(for url: String) -> String {
        let lower = url.prefix(8).lowercased()
        if lower.hasPrefix("https://") { return proxy ?? "" }
        if lower.hasPrefix("http://") { return httpProxy ?? "" }
        return ""
    }

    /// Proxy URLs may carry `user:password@`; the description never shows it.
    public var description: String {
        "CurlTransportConfiguration(caBundlePath: \(caBundlePath ?? "system"), "
            + "proxy: \(proxy.map(Self.redactUserInfo) ?? "none"), "
            + "httpProxy: \(httpProxy.map(Self.redactUserInfo) ?? "none"), noProxy: \(noProxy ?? "none"), "
            + "maxConnectionsPerHost: \(maxConnectionsPerHost), userAgent: \(userAgent), verbose: \(verbose))"
    }

    /// Replaces the `user:password@` of a URL's authority (only there: a path may contain "@").
    static func redactUserInfo(_ url: String) -> String {
        let schemeEnd = url.range(of: "://")?.upperBound ?? url.startIndex
        let authorityEnd = url[schemeEnd...].firstIndex(of: "/") ?? url.endIndex
        guard let at = url[schemeEnd..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd]) + "***@" + String(url[url.index(after: at)...])
    }
}

extension String {
    /// Trims ASCII whitespace. Works on bytes: "\r\n" is a single Character, so a Character test would miss it.
    func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}

import Foundation

/// Proxy and CA settings for the HTTP transport, resolved from the environment and the profile.
///
/// Lower-case proxy variables win over upper-case ones, as curl reads them; AWS_CA_BUNDLE wins over the profile's
/// `ca_bundle`. Descriptions hide proxy passwords.
public struct NetworkSettings: Sendable, Equatable, CustomStringConvertible {
    /// Proxy for https:// endpoints (https_proxy / HTTPS_PROXY).
    public var httpsProxy: String?
    /// Proxy for http:// endpoints such as a local test server (http_proxy / HTTP_PROXY).
    public var httpProxy: String?
    /// Hosts that bypass the proxy (no_proxy / NO_PROXY, comma separated; `*` means all).
    public var noProxy: [String]
    /// A PEM file of trusted CAs replacing the system store, for TLS-inspecting proxies.
    public var caBundlePath: String?

    public init(httpsProxy: String? = nil, httpProxy: String? = nil, noProxy: [String] = [], caBundlePath: String? = nil) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
        self.caBundlePath = caBundlePath
    }

    public var description: String {
        "NetworkSettings(httpsProxy: \(httpsProxy.map(redactUserInfo) ?? "none"), "
            + "httpProxy: \(httpProxy.map(redactUserInfo) ?? "none"), noProxy: \(noProxy), "
            + "caBundle: \(caBundlePath ?? "system"))"
    }

    public static func resolve(environment: [String: String], profile: ConfigProfile) throws -> NetworkSettings {
        func proxy(_ lower: String, _ upper: String) throws -> String? {
            let (value, name) = nonEmpty(environment[lower]).map { ($0, lower) }
                ?? (nonEmpty(environment[upper]), upper)
            guard let value else { return nil }
            return try validateProxy(value, source: name)
        }
        let noProxyText = nonEmpty(environment["no_proxy"]) ?? nonEmpty(environment["NO_PROXY"]) ?? ""
        let noProxy = noProxyText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }

        var caBundle: String?
        if let (path, source) = nonEmpty(environment["AWS_CA_BUNDLE"]).map({ ($0, "AWS_CA_BUNDLE") })
            ?? profile["ca_bundle"].map({ ($0, "ca_bundle of \(profile.origin(of: "ca_bundle"))") }) {
            caBundle = try validateCABundle(path, source: source, home: nonEmpty(environment["HOME"]))
        }
        return NetworkSettings(httpsProxy: try proxy("https_proxy", "HTTPS_PROXY"),
                               httpProxy: try proxy("http_proxy", "HTTP_PROXY"), noProxy: noProxy,
                               caBundlePath: caBundle)
    }

    /// A proxy URL curl will accept; a bare `host:port` gets curl's default `http://`.
    static func validateProxy(_ value: String, source: String) throws -> String {
        let url = value.contains("://") ? value : "http://" + value
        let allowed: Set<String> = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"]
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
              allowed.contains(scheme), let host = parts.host, !host.isEmpty else {
            throw AWSConfigError(.network, "\(source) = '\(redactUserInfo(excerpt(value, limit: 120)))' is not a "
                + "usable proxy URL; use e.g. http://proxy.example.com:3128")
        }
        return url
    }

    /// The CA bundle must be a readable file: a typo here would otherwise surface as a baffling TLS error.
    static func validateCABundle(_ path: String, source: String, home: String?) throws -> String {
        guard let expanded = expandTilde(path, home: home) else {
            throw AWSConfigError(.network, "CA bundle \(path) from \(source) starts with ~ but HOME is not set; "
                + "use an absolute path")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: expanded, isDirectory: &isDirectory) else {
            throw AWSConfigError(.network, "CA bundle \(expanded) from \(source) does not exist; fix the path or "
                + "unset it to use the system's trusted CAs")
        }
        guard !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: expanded) else {
            throw AWSConfigError(.network, "CA bundle \(expanded) from \(source) is not a readable file; point it "
                + "at a PEM file of CA certificates")
        }
        return expanded
    }
}

/// `scheme://user:password@host` shown as `scheme://***@host`: proxy and endpoint URLs may carry passwords.
func redactUserInfo(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return url }
    let rest = url[schemeEnd.upperBound...]
    let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
    guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
    return String(url[..<schemeEnd.upperBound]) + "***" + String(rest[at...])
}

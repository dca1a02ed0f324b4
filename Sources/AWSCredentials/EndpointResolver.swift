import Foundation

/// What endpoint resolution needs to know about one service.
public struct ServiceEndpointInfo: Sendable, Hashable {
    /// The SDK service id ("SSM", "EC2", "STS"): AWS_ENDPOINT_URL_<ID> and the `[services]` key derive from it.
    public let serviceId: String
    /// The first label of the default host name (`ssm` in ssm.us-east-1.amazonaws.com).
    public let endpointPrefix: String
    /// The SigV4 service name.
    public let signingName: String
    /// In us-gov regions these services' standard hosts are already FIPS endpoints (no `-fips` host exists).
    public let govCloudStandardHostIsFIPS: Bool

    public init(serviceId: String, endpointPrefix: String, signingName: String, govCloudStandardHostIsFIPS: Bool = false) {
        self.serviceId = serviceId
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName
        self.govCloudStandardHostIsFIPS = govCloudStandardHostIsFIPS
    }

    public static let ssm = ServiceEndpointInfo(serviceId: "SSM", endpointPrefix: "ssm", signingName: "ssm",
                                                govCloudStandardHostIsFIPS: true)
    public static let ec2 = ServiceEndpointInfo(serviceId: "EC2", endpointPrefix: "ec2", signingName: "ec2",
                                                govCloudStandardHostIsFIPS: true)
    public static let sts = ServiceEndpointInfo(serviceId: "STS", endpointPrefix: "sts", signingName: "sts",
                                                govCloudStandardHostIsFIPS: true)

    /// AWS_ENDPOINT_URL_SSM: the id upper-cased, spaces as underscores.
    public var environmentVariable: String {
        "AWS_ENDPOINT_URL_" + serviceId.uppercased().replacingOccurrences(of: " ", with: "_")
    }
    /// `ssm` in a `[services name]` section: the id lower-cased, spaces as underscores.
    public var configKey: String { serviceId.lowercased().replacingOccurrences(of: " ", with: "_") }
}

/// Where requests for one service go, and how they are signed.
public struct ResolvedEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// Scheme, host, optional port and path, without a trailing slash.
    public let url: String
    public let host: String
    /// A custom endpoint is signed for the resolved region, like the CLI does.
    public let signingRegion: String
    public let signingName: String
    /// "--endpoint-url", "AWS_ENDPOINT_URL_SSM", "services local in ~/.aws/config", "default", ...
    public let source: String
    public var description: String { "\(url) (from \(source))" }
}

/// Endpoint precedence: `--endpoint-url` > AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > the profile's
/// `[services]` section > the profile's `endpoint_url` > the default host. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or
/// the profile's ignore_configured_endpoint_urls) turns off everything but the flag and the default.
public enum EndpointResolver {
    public static func resolve(_ service: ServiceEndpointInfo, region: String, explicitURL: String?,
                               environment: [String: String], profile: ConfigProfile,
                               config: SharedConfig) throws -> ResolvedEndpoint {
        func make(_ url: String, _ source: String) throws -> ResolvedEndpoint {
            let (clean, host) = try validate(url, source: source)
            return ResolvedEndpoint(url: clean, host: host, signingRegion: region, signingName: service.signingName,
                                    source: source)
        }
        if let url = nonEmpty(explicitURL) { return try make(url, "--endpoint-url") }

        let ignore = nonEmpty(environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]).map(parseBool)
            ?? parseBool(profile["ignore_configured_endpoint_urls"])
        if !ignore {
            if let url = nonEmpty(environment[service.environmentVariable]) {
                return try make(url, service.environmentVariable)
            }
            if let url = nonEmpty(environment["AWS_ENDPOINT_URL"]) { return try make(url, "AWS_ENDPOINT_URL") }
            if let section = profile["services"],
               let url = nonEmpty(config.serviceSettings(for: profile, serviceKey: service.configKey)?["endpoint_url"]) {
                return try make(url, "'\(service.configKey) = endpoint_url' in [services \(section)] of \(config.configLabel)")
            }
            if let url = profile["endpoint_url"] { return try make(url, "endpoint_url of \(profile.origin(of: "endpoint_url"))") }
        }

        let fips = nonEmpty(environment["AWS_USE_FIPS_ENDPOINT"]).map(parseBool) ?? parseBool(profile["use_fips_endpoint"])
        let host = defaultHost(service, region: region, fips: fips)
        return ResolvedEndpoint(url: "https://" + host, host: host, signingRegion: region,
                                signingName: service.signingName, source: fips ? "default (FIPS)" : "default")
    }

    /// `{prefix}.{region}.{dnsSuffix}`, or `{prefix}-fips...` when FIPS is asked for.
    public static func defaultHost(_ service: ServiceEndpointInfo, region: String, fips: Bool) -> String {
        let useFIPSLabel = fips && !(region.hasPrefix("us-gov-") && service.govCloudStandardHostIsFIPS)
        let label = useFIPSLabel ? service.endpointPrefix + "-fips" : service.endpointPrefix
        return "\(label).\(region).\(dnsSuffix(for: region))"
    }

    /// The partition's DNS suffix, from the region's prefix.
    public static func dnsSuffix(for region: String) -> String {
        if region.hasPrefix("cn-") { return "amazonaws.com.cn" }
        if region.hasPrefix("us-isob-") { return "sc2s.sgov.gov" }
        if region.hasPrefix("us-isof-") { return "csp.hci.ic.gov" }
        if region.hasPrefix("us-iso-") { return "c2s.ic.gov" }
        if region.hasPrefix("eu-isoe-") { return "cloud.adc-e.uk" }
        return "amazonaws.com"
    }

    /// An absolute http(s) URL with a host and no query or fragment; returns it without a trailing slash.
    public static func validate(_ url: String, source: String) throws -> (url: String, host: String) {
        func fail(_ why: String) -> AWSConfigError {
            AWSConfigError(.invalidEndpoint, "endpoint URL '\(redactUserInfo(excerpt(url, limit: 120)))' from \(source) \(why); "
                + "use a URL such as https://ssm.us-east-1.amazonaws.com or http://localhost:5000")
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
            throw fail("is not an absolute URL (it needs http:// or https://)")
        }
        guard scheme == "http" || scheme == "https" else { throw fail("uses scheme '\(scheme)', not http or https") }
        guard let host = parts.host, !host.isEmpty else { throw fail("has no host") }
        guard parts.query == nil, parts.fragment == nil else { throw fail("must not have a query or fragment") }
        guard parts.user == nil, parts.password == nil else { throw fail("must not contain a user name or password") }
        var clean = url
        while clean.hasSuffix("/") { clean.removeLast() }
        return (clean, host)
    }
}

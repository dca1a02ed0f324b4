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
    /// IAM is global: one endpoint per partition (see `EndpointResolver.iamGlobal`). doctor asks it.
    public static let iam = ServiceEndpointInfo(serviceId: "IAM", endpointPrefix: "iam", signingName: "iam",
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
                               config: SharedConfig, allowInsecure: Bool = false) throws -> ResolvedEndpoint {
        func make(_ url: String, _ source: String) throws -> ResolvedEndpoint {
            let (clean, host) = try validate(url, source: source, allowInsecure: allowInsecure)
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
        // sts_regional_endpoints = legacy: the AWS CLI's global STS host for the regions it used to serve, signed
        // for us-east-1 (botocore args.py `_should_set_global_sts_endpoint`; never with FIPS or a configured URL).
        if service == .sts, !fips, try stsRegionalEndpoints(environment: environment, profile: profile) == "legacy",
           legacyGlobalSTSRegions.contains(region) {
            return ResolvedEndpoint(url: "https://sts.amazonaws.com", host: "sts.amazonaws.com", signingRegion: "us-east-1",
                                    signingName: service.signingName, source: "default (sts_regional_endpoints = legacy)")
        }
        if service == .iam { return iamGlobal(region: region, fips: fips) }
        let host = defaultHost(service, region: region, fips: fips)
        return ResolvedEndpoint(url: "https://" + host, host: host, signingRegion: region,
                                signingName: service.signingName, source: fips ? "default (FIPS)" : "default")
    }

    /// IAM's one endpoint per partition and the region it is signed for (AWS General Reference, "AWS Identity and
    /// Access Management endpoints and quotas"): iam.amazonaws.com / us-east-1 (FIPS: iam-fips.amazonaws.com),
    /// iam.cn-north-1.amazonaws.com.cn / cn-north-1, iam.us-gov.amazonaws.com / us-gov-west-1 (already FIPS), and
    /// the ISO partitions' iam.us-iso-east-1.c2s.ic.gov / iam.us-isob-east-1.sc2s.sgov.gov.
    public static func iamGlobal(region: String, fips: Bool) -> ResolvedEndpoint {
        let (host, signing): (String, String)
        if region.hasPrefix("cn-") {
            (host, signing) = ("iam.cn-north-1.amazonaws.com.cn", "cn-north-1")
        } else if region.hasPrefix("us-gov-") {
            (host, signing) = ("iam.us-gov.amazonaws.com", "us-gov-west-1")
        } else if region.hasPrefix("us-isob-") {
            (host, signing) = ("iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1")
        } else if region.hasPrefix("us-iso-") {
            (host, signing) = ("iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1")
        } else if region.hasPrefix("us-isof-") || region.hasPrefix("eu-isoe-") {
            (host, signing) = (defaultHost(.iam, region: region, fips: false), region)
        } else {
            (host, signing) = (fips ? "iam-fips.amazonaws.com" : "iam.amazonaws.com", "us-east-1")
        }
        return ResolvedEndpoint(url: "https://" + host, host: host, signingRegion: signing, signingName: "iam",
                                source: "default (IAM is global: one endpoint per partition)")
    }

    /// The regions whose STS calls went to sts.amazonaws.com before regional endpoints became the default.
    static let legacyGlobalSTSRegions: Set<String> = [
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
        "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
        "us-west-1", "us-west-2",
    ]

    /// AWS_STS_REGIONAL_ENDPOINTS, else the profile's sts_regional_endpoints: `regional` (the default) or `legacy`.
    public static func stsRegionalEndpoints(environment: [String: String], profile: ConfigProfile) throws -> String {
        let (raw, source) = nonEmpty(environment["AWS_STS_REGIONAL_ENDPOINTS"]).map { ($0, "AWS_STS_REGIONAL_ENDPOINTS") }
            ?? profile["sts_regional_endpoints"].map { ($0, "sts_regional_endpoints in \(profile.origin(of: "sts_regional_endpoints"))") }
            ?? ("regional", "")
        guard raw == "regional" || raw == "legacy" else {
            throw AWSConfigError(.invalidValue, "\(source) = '\(excerpt(raw, limit: 40))' is not valid; use regional or legacy")
        }
        return raw
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

    /// An absolute http(s) URL with a host and no query or fragment. A lone `/` after the host is dropped; a path is
    /// kept exactly, trailing `/` included, as the AWS CLI sends it (`https://proxy/aws/` calls `/aws/`).
    ///
    /// http:// is accepted for loopback hosts only unless `allowInsecure` (--allow-insecure-endpoint): elsewhere the
    /// session token and every answer would cross the network in clear.
    public static func validate(_ url: String, source: String, allowInsecure: Bool = false) throws -> (url: String, host: String) {
        func fail(_ why: String, example: Bool = true) -> AWSConfigError {
            AWSConfigError(.invalidEndpoint, "endpoint URL '\(redactUserInfo(excerpt(url, limit: 120)))' from \(source) \(why)"
                + (example ? "; use a URL such as https://ssm.us-east-1.amazonaws.com or http://localhost:5000" : ""))
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
            throw fail("is not an absolute URL (it needs http:// or https://)")
        }
        guard scheme == "http" || scheme == "https" else { throw fail("uses scheme '\(scheme)', not http or https") }
        guard let host = parts.host, !host.isEmpty else { throw fail("has no host") }
        guard parts.query == nil, parts.fragment == nil else { throw fail("must not have a query or fragment") }
        guard parts.user == nil, parts.password == nil else { throw fail("must not contain a user name or password") }
        // `http://host:` parses with no port; curl would quietly use 80. Say so instead.
        if parts.port == nil, let authorityEnd = url.range(of: "://").map({ url[$0.upperBound...] }),
           authorityEnd.prefix(while: { $0 != "/" }).hasSuffix(":") {
            throw fail("has a ':' but no port after it; write the port (http://\(host):5000) or drop the ':'")
        }
        if scheme == "http", !allowInsecure, !isLoopback(host) {
            throw fail("is plain http:// to a host that is not this machine: the session token and every answer would "
                + "travel in clear. Use https://, or pass --allow-insecure-endpoint if this network is trusted", example: false)
        }
        var clean = url
        if parts.percentEncodedPath == "/" { clean.removeLast() }
        return (clean, host)
    }

    /// localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h.hasSuffix(".localhost") || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let octets = h.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

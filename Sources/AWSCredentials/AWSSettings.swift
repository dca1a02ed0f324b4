import AWSHTTP
import Foundation

/// Settings given on the command line; they beat everything else.
public struct ExplicitSettings: Sendable, Equatable {
    public var profile: String?
    public var region: String?
    public var endpointURL: String?
    /// `--allow-insecure-endpoint`: an http:// endpoint on a host other than loopback is accepted (the session token
    /// and every request then travel in clear).
    public var allowInsecureEndpoint: Bool
    public init(profile: String? = nil, region: String? = nil, endpointURL: String? = nil,
                allowInsecureEndpoint: Bool = false) {
        self.profile = profile
        self.region = region
        self.endpointURL = endpointURL
        self.allowInsecureEndpoint = allowInsecureEndpoint
    }
}

/// The retry modes the CLI accepts in `retry_mode` / AWS_RETRY_MODE.
public enum RetryModeSetting: String, Sendable, CaseIterable {
    case standard, adaptive, legacy
}

/// Everything about "which account, where, and how" resolved once, the way the AWS CLI resolves it, so existing
/// ~/.aws setups, environment variables and flags just work.
///
/// The environment is passed in (never read from the process here) and HOME comes from it, so tests are hermetic.
public struct AWSSettings: Sendable {
    public let profileName: String
    /// True when the profile came from `--profile` (environment credentials are then ignored, as by the CLI).
    public let profileExplicit: Bool
    public let region: ResolvedRegion
    public let network: NetworkSettings
    public let retryMode: RetryModeSetting
    /// Whether `retry_mode` / AWS_RETRY_MODE was set. When it was not, clonectl paces each API adaptively (see
    /// AWSSession); an operator who sets `standard` or `legacy` gets the AWS CLI's unpaced retries.
    public let retryModeExplicit: Bool
    /// nil when unset: the retry layer applies its mode's default.
    public let maxAttempts: Int?
    public let config: SharedConfig
    public let profile: ConfigProfile
    public let environment: [String: String]
    public let explicitEndpointURL: String?
    public let allowInsecureEndpoint: Bool
    /// Settings that parse but are probably not what was meant; the CLI prints them to standard error.
    public let warnings: [String]

    public static func resolve(_ explicit: ExplicitSettings = ExplicitSettings(),
                               environment: [String: String]) throws -> AWSSettings {
        let config = try SharedConfig.load(environment: environment)
        var warnings = config.warnings
        let name: String
        let profile: ConfigProfile
        if let flag = nonEmpty(explicit.profile) {
            name = flag
            profile = try config.requireProfile(flag)
        } else if let env = nonEmpty(environment["AWS_PROFILE"]) ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"]) {
            // AWS_PROFILE wins, as in AWS CLI v2 and the SDKs; AWS CLI v1 prefers AWS_DEFAULT_PROFILE.
            if let a = nonEmpty(environment["AWS_PROFILE"]), let b = nonEmpty(environment["AWS_DEFAULT_PROFILE"]), a != b {
                warnings.append("AWS_PROFILE=\(excerpt(a, limit: 60)) and AWS_DEFAULT_PROFILE=\(excerpt(b, limit: 60)) differ; "
                    + "clonectl uses AWS_PROFILE (as AWS CLI v2 does; AWS CLI v1 would use AWS_DEFAULT_PROFILE): unset one of them")
            }
            name = env
            profile = try config.requireProfile(env)
        } else {
            name = "default"
            profile = config.profile("default")
        }
        try config.checkServicesSection(of: profile)
        let region = try RegionResolver.resolve(explicit: explicit.region, environment: environment, profile: profile)
        let (mode, modeExplicit, attempts) = try retrySettings(environment: environment, profile: profile)
        let settings = AWSSettings(profileName: name, profileExplicit: nonEmpty(explicit.profile) != nil,
                                   region: region,
                                   network: try NetworkSettings.resolve(environment: environment, profile: profile),
                                   retryMode: mode, retryModeExplicit: modeExplicit, maxAttempts: attempts, config: config, profile: profile,
                                   environment: environment, explicitEndpointURL: nonEmpty(explicit.endpointURL),
                                   allowInsecureEndpoint: explicit.allowInsecureEndpoint, warnings: warnings)
        // A bad --endpoint-url or sts_regional_endpoints should fail before any work starts, not at the first request.
        if let url = settings.explicitEndpointURL {
            _ = try EndpointResolver.validate(url, source: "--endpoint-url", allowInsecure: explicit.allowInsecureEndpoint)
        }
        _ = try EndpointResolver.stsRegionalEndpoints(environment: environment, profile: profile)
        return settings
    }

    /// The endpoint for one service (`.ssm`, `.ec2`, `.sts` or any other described by ServiceEndpointInfo).
    public func endpoint(for service: ServiceEndpointInfo) throws -> ResolvedEndpoint {
        try EndpointResolver.resolve(service, region: region.name, explicitURL: explicitEndpointURL,
                                     environment: environment, profile: profile, config: config,
                                     allowInsecure: allowInsecureEndpoint)
    }

    /// The default credential chain for this profile, cached and refreshed before expiry.
    public func makeCredentialProvider(http: any HTTPTransport, assumeRole: @escaping AssumeRoleFunction,
                                       webIdentity: AssumeRoleWithWebIdentityFunction? = nil,
                                       now: @escaping @Sendable () -> Date = { Date() }) -> RefreshingCredentialProvider {
        let chain = DefaultCredentialChain(profileName: profileName, profileExplicit: profileExplicit, config: config,
                                           environment: environment, http: http, assumeRole: assumeRole,
                                           region: region.name, now: now, webIdentity: webIdentity)
        return RefreshingCredentialProvider(wrapping: chain, now: now)
    }

    /// retry_mode and max_attempts: the environment beats the profile.
    static func retrySettings(environment: [String: String],
                              profile: ConfigProfile) throws -> (RetryModeSetting, explicit: Bool, Int?) {
        var mode = RetryModeSetting.standard
        var explicit = false
        if let (raw, source) = nonEmpty(environment["AWS_RETRY_MODE"]).map({ ($0, "AWS_RETRY_MODE") })
            ?? profile["retry_mode"].map({ ($0, "retry_mode in \(profile.origin(of: "retry_mode"))") }) {
            guard let parsed = RetryModeSetting(rawValue: raw.lowercased()) else {
                throw AWSConfigError(.invalidValue, "\(source) = '\(excerpt(raw, limit: 40))' is not a retry mode; "
                    + "use standard, adaptive or legacy")
            }
            mode = parsed
            explicit = true
        }
        var attempts: Int?
        if let raw = nonEmpty(environment["AWS_MAX_ATTEMPTS"]) {
            guard let value = Int(raw), (1...100).contains(value) else {
                throw AWSConfigError(.invalidValue, "AWS_MAX_ATTEMPTS = '\(excerpt(raw, limit: 40))' is not valid; "
                    + "use a whole number from 1 to 100 (1 means no retries)")
            }
            attempts = value
        } else {
            attempts = try profile.positiveInt("max_attempts", maximum: 100)
        }
        return (mode, explicit, attempts)
    }
}

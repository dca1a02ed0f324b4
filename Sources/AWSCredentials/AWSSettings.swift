import AWSHTTP
import Foundation

/// Settings given on the command line; they beat everything else.
public struct ExplicitSettings: Sendable, Equatable {
    public var profile: String?
    public var region: String?
    public var endpointURL: String?
    public init(profile: String? = nil, region: String? = nil, endpointURL: String? = nil) {
        self.profile = profile
        self.region = region
        self.endpointURL = endpointURL
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

    public static func resolve(_ explicit: ExplicitSettings = ExplicitSettings(),
                               environment: [String: String]) throws -> AWSSettings {
        let config = try SharedConfig.load(environment: environment)
        let name: String
        let profile: ConfigProfile
        if let flag = nonEmpty(explicit.profile) {
            name = flag
            profile = try config.requireProfile(flag)
        } else if let env = nonEmpty(environment["AWS_PROFILE"]) ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"]) {
            name = env
            profile = try config.requireProfile(env)
        } else {
            name = "default"
            profile = config.profile("default")
        }
        let region = try RegionResolver.resolve(explicit: explicit.region, environment: environment, profile: profile)
        let (mode, modeExplicit, attempts) = try retrySettings(environment: environment, profile: profile)
        let settings = AWSSettings(profileName: name, profileExplicit: nonEmpty(explicit.profile) != nil,
                                   region: region,
                                   network: try NetworkSettings.resolve(environment: environment, profile: profile),
                                   retryMode: mode, retryModeExplicit: modeExplicit, maxAttempts: attempts, config: config, profile: profile,
                                   environment: environment, explicitEndpointURL: nonEmpty(explicit.endpointURL))
        // A bad --endpoint-url should fail before any work starts, not at the first request.
        if let url = settings.explicitEndpointURL { _ = try EndpointResolver.validate(url, source: "--endpoint-url") }
        return settings
    }

    /// The endpoint for one service (`.ssm`, `.ec2`, `.sts` or any other described by ServiceEndpointInfo).
    public func endpoint(for service: ServiceEndpointInfo) throws -> ResolvedEndpoint {
        try EndpointResolver.resolve(service, region: region.name, explicitURL: explicitEndpointURL,
                                     environment: environment, profile: profile, config: config)
    }

    /// The default credential chain for this profile, cached and refreshed before expiry.
    public func makeCredentialProvider(http: any HTTPTransport, assumeRole: @escaping AssumeRoleFunction,
                                       now: @escaping @Sendable () -> Date = { Date() }) -> RefreshingCredentialProvider {
        let chain = DefaultCredentialChain(profileName: profileName, profileExplicit: profileExplicit, config: config,
                                           environment: environment, http: http, assumeRole: assumeRole,
                                           region: region.name, now: now)
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

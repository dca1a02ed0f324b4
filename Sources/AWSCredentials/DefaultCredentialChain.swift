import AWSHTTP
import Foundation

/// The AWS CLI's credential chain: environment, then the profile (role, process, static keys), then the container
/// endpoint, then EC2 instance metadata. The first source that is configured wins; a configured source that fails
/// is an error (falling through would silently use other credentials than the user meant).
public struct DefaultCredentialChain: CredentialProvider {
    public let profileName: String
    /// `--profile` given on the command line: the CLI then ignores credentials in the environment.
    public let profileExplicit: Bool
    let config: SharedConfig
    let environment: [String: String]
    let http: any HTTPTransport
    let builder: ProfileCredentialBuilder
    let webIdentity: AssumeRoleWithWebIdentityFunction?
    let now: @Sendable () -> Date

    public init(profileName: String, profileExplicit: Bool, config: SharedConfig, environment: [String: String],
                http: any HTTPTransport, assumeRole: @escaping AssumeRoleFunction, region: String?,
                processTimeout: Duration = .seconds(60), now: @escaping @Sendable () -> Date = { Date() },
                webIdentity: AssumeRoleWithWebIdentityFunction? = nil) {
        self.webIdentity = webIdentity
        self.now = now
        self.profileName = profileName
        self.profileExplicit = profileExplicit
        self.config = config
        self.environment = environment
        self.http = http
        self.builder = ProfileCredentialBuilder(config: config, environment: environment, http: http,
                                                assumeRole: assumeRole, region: region, now: now,
                                                processTimeout: processTimeout, webIdentity: webIdentity)
    }

    public func credentials() async throws -> AWSCredentials {
        var looked: [String] = []
        if profileExplicit {
            looked.append("environment: skipped because --profile \(profileName) was given")
        } else if let creds = try EnvironmentCredentials.read(environment) {
            return creds
        } else {
            looked.append("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        }

        // Web identity comes after a profile's own role_arn + source_profile and before its keys or
        // credential_process, as in botocore's chain; a profile with role_arn and a token file is web identity.
        let profile = config.profile(profileName)
        let roleFirst = profile["role_arn"] != nil && profile["web_identity_token_file"] == nil
            && (profile["source_profile"] != nil || profile["credential_source"] != nil)
        if !roleFirst, let webIdentity,
           let provider = try WebIdentityProvider.from(profile: profile, environment: environment, call: webIdentity, now: now) {
            return try await provider.credentials()
        }
        if let provider = try builder.provider(forProfile: profileName) {
            return try await provider.credentials()
        }
        looked.append(profileNote())

        let container = ContainerCredentialProvider(environment: environment, http: http)
        switch try await container.probe() {
        case .found(let creds): return creds
        case .notAvailable(let reason): looked.append(reason)
        }
        let imds = InstanceMetadataCredentialProvider(environment: environment, profile: config.profile(profileName),
                                                      http: http)
        switch try await imds.probe() {
        case .found(let creds): return creds
        case .notAvailable(let reason): looked.append(reason)
        }

        throw AWSConfigError(.noCredentials, "no AWS credentials found for profile \(profileName). Looked in:\n"
            + looked.map { "  - " + $0 }.joined(separator: "\n")
            + "\nTo fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run 'aws configure"
            + (profileName == "default" ? "" : " --profile \(profileName)")
            + "', or choose a profile that has credentials with --profile or AWS_PROFILE")
    }

    private func profileNote() -> String {
        let profile = config.profile(profileName)
        var note = "profile \(profileName) in \(config.credentialsLabel) and \(config.configLabel): "
        note += config.hasProfile(profileName)
            ? "no aws_access_key_id, role_arn or credential_process"
            : "no such profile (available: \(config.profileNames.isEmpty ? "none" : config.profileNames.joined(separator: ", ")))"
        if profile["sso_session"] != nil || profile["sso_start_url"] != nil {
            note += " (SSO profiles are not supported directly: run 'aws sso login --profile \(profileName)' and "
                + "'eval \"$(aws configure export-credentials --profile \(profileName) --format env)\"')"
        }
        return note
    }
}

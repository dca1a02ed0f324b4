import AWSHTTP
import Foundation

/// `role_arn` profiles: credentials from a source (another profile, the environment, IMDS or the container endpoint)
/// are exchanged for the role's through the injected AssumeRoleFunction.
public struct AssumeRoleProvider: CredentialProvider {
    public let roleArn: String
    public let roleSessionName: String?
    public let externalId: String?
    public let durationSeconds: Int?
    public let region: String?
    public let profileName: String
    public let source: any CredentialProvider
    public let assumeRole: AssumeRoleFunction
    let now: @Sendable () -> Date

    public init(roleArn: String, roleSessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil,
                region: String?, profileName: String, source: any CredentialProvider,
                assumeRole: @escaping AssumeRoleFunction, now: @escaping @Sendable () -> Date = { Date() }) {
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.region = region
        self.profileName = profileName
        self.source = source
        self.assumeRole = assumeRole
        self.now = now
    }

    public func credentials() async throws -> AWSCredentials {
        let sourceCredentials = try await source.credentials()
        // The CLI names sessions after itself and the time, so CloudTrail shows who assumed the role and when.
        let sessionName = roleSessionName ?? "clonectl-session-\(Int(now().timeIntervalSince1970))"
        let request = AssumeRoleRequest(roleArn: roleArn, roleSessionName: sessionName, externalId: externalId,
                                        durationSeconds: durationSeconds, sourceCredentials: sourceCredentials,
                                        region: region)
        do {
            var result = try await assumeRole(request)
            result.source = "assume-role \(roleArn) (profile \(profileName))"
            return result
        } catch let error as AWSConfigError {
            throw error
        } catch {
            throw AWSConfigError(.assumeRole, "assuming role \(roleArn) for profile \(profileName) with "
                + "credentials from \(sourceCredentials.source) failed: \(error)")
        }
    }
}

/// Turns a profile's credential settings into a provider, following `source_profile` links.
struct ProfileCredentialBuilder: Sendable {
    let config: SharedConfig
    let environment: [String: String]
    let http: any HTTPTransport
    let assumeRole: AssumeRoleFunction
    let region: String?
    let now: @Sendable () -> Date
    let processTimeout: Duration
    /// For a `source_profile` that is a web identity profile (its token file and role, from the profile only).
    var webIdentity: AssumeRoleWithWebIdentityFunction? = nil

    /// Role chains longer than this are almost certainly a mistake (the SDKs stop much sooner in practice).
    static let maxChainDepth = 10

    /// The provider for `name`, or nil when the profile holds no credential settings at all.
    func provider(forProfile name: String) throws -> (any CredentialProvider)? {
        try provider(forProfile: name, visited: [])
    }

    private func provider(forProfile name: String, visited: [String]) throws -> (any CredentialProvider)? {
        let profile = visited.isEmpty ? config.profile(name) : try config.requireProfile(name)
        // A web identity profile reached through source_profile: its own token file and role (botocore does the same).
        if !visited.isEmpty, let webIdentity, profile["web_identity_token_file"] != nil,
           profile["source_profile"] == nil, profile["credential_source"] == nil,
           let provider = try WebIdentityProvider.from(profile: profile, environment: [:], call: webIdentity, now: now) {
            return provider
        }
        if let roleArn = profile["role_arn"] {
            return try roleProvider(profile, roleArn: roleArn, visited: visited + [name])
        }
        return try nonRoleProvider(profile)
    }

    /// Static keys from the credentials file, then credential_process, then static keys from the config file:
    /// the CLI's order inside one profile.
    private func nonRoleProvider(_ profile: ConfigProfile) throws -> (any CredentialProvider)? {
        if let creds = try profile.staticCredentials(fromCredentialsFile: true) { return StaticCredentialProvider(creds) }
        if let command = profile["credential_process"] {
            return ProcessCredentialProvider(command: command, profileName: profile.name, environment: environment,
                                             timeout: processTimeout, now: now)
        }
        if let creds = try profile.staticCredentials(fromCredentialsFile: false) { return StaticCredentialProvider(creds) }
        return nil
    }

    private func roleProvider(_ profile: ConfigProfile, roleArn: String, visited: [String]) throws -> any CredentialProvider {
        let location = profile.origin(of: "role_arn")
        if profile["mfa_serial"] != nil {
            throw AWSConfigError(.assumeRole, "\(location) sets mfa_serial, but clonectl cannot prompt for an MFA code; "
                + "get session credentials first (e.g. aws sts get-session-token) and pass them in the environment")
        }
        let sourceProfile = profile["source_profile"]
        let credentialSource = profile["credential_source"]
        let source: any CredentialProvider
        switch (sourceProfile, credentialSource) {
        case (_?, _?):
            throw AWSConfigError(.assumeRole, "\(location) sets both source_profile and credential_source; keep one")
        case (nil, nil):
            throw AWSConfigError(.assumeRole, "\(location) sets role_arn without source_profile or credential_source; "
                + "add source_profile = <profile with keys> or credential_source = Environment|Ec2InstanceMetadata|EcsContainer")
        case (let sourceName?, nil):
            source = try sourceProvider(named: sourceName, for: profile, visited: visited)
        case (nil, let kind?):
            source = try credentialSourceProvider(kind, profile: profile)
        }
        let duration = try profile.positiveInt("duration_seconds", maximum: 43_200)
        if let duration, duration < 900 {
            throw AWSConfigError(.invalidValue, "duration_seconds = \(duration) in \(profile.origin(of: "duration_seconds")) "
                + "is too short; AssumeRole accepts 900 to 43200 seconds")
        }
        return AssumeRoleProvider(roleArn: roleArn, roleSessionName: profile["role_session_name"],
                                  externalId: profile["external_id"], durationSeconds: duration, region: region,
                                  profileName: profile.name, source: source, assumeRole: assumeRole, now: now)
    }

    private func sourceProvider(named sourceName: String, for profile: ConfigProfile,
                                visited: [String]) throws -> any CredentialProvider {
        // A profile may name itself as its source when it also holds the keys to assume the role with.
        if sourceName == profile.name, let own = try nonRoleProvider(profile) { return own }
        if visited.contains(sourceName) {
            let loop = (visited + [sourceName]).joined(separator: " -> ")
            throw AWSConfigError(.assumeRole, "source_profile loop: \(loop); make the last profile in the chain hold "
                + "keys (aws_access_key_id / aws_secret_access_key or credential_process) instead of a role_arn")
        }
        if visited.count >= Self.maxChainDepth {
            throw AWSConfigError(.assumeRole, "role chain from profile \(visited[0]) is more than \(Self.maxChainDepth) "
                + "profiles deep (\(visited.joined(separator: " -> "))); shorten it")
        }
        guard let source = try provider(forProfile: sourceName, visited: visited) else {
            throw AWSConfigError(.assumeRole, "source_profile \(sourceName) (used by \(profile.origin(of: "source_profile"))) "
                + "has no credentials; add aws_access_key_id and aws_secret_access_key, credential_process, or role_arn to it")
        }
        return source
    }

    private func credentialSourceProvider(_ kind: String, profile: ConfigProfile) throws -> any CredentialProvider {
        switch kind {
        case "Environment":
            let env = environment
            return ClosureCredentialProvider {
                guard let creds = try EnvironmentCredentials.read(env) else {
                    throw AWSConfigError(.assumeRole, "profile \(profile.name) uses credential_source = Environment, "
                        + "but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
                }
                return creds
            }
        case "Ec2InstanceMetadata":
            return InstanceMetadataCredentialProvider(environment: environment, profile: profile, http: http)
        case "EcsContainer":
            return ContainerCredentialProvider(environment: environment, http: http)
        default:
            throw AWSConfigError(.invalidValue, "credential_source = \(excerpt(kind, limit: 40)) in "
                + "\(profile.origin(of: "credential_source")) is not supported; use Environment, Ec2InstanceMetadata or EcsContainer")
        }
    }
}

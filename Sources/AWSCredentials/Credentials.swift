import Foundation

/// AWS credentials. `description` never shows the secret or the token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?
    /// Where they came from ("environment", "shared-credentials-file profile dev", "assume-role ...", "imds"...).
    public var source: String

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil,
                expiration: Date? = nil, source: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"), source: \(source))"
    }
    public var debugDescription: String { description }
}

/// Supplies credentials, refreshing them as needed.
public protocol CredentialProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// STS AssumeRole, injected by the layer that owns the STS client (AWSCore), so this module does not depend on it.
public struct AssumeRoleRequest: Sendable {
    public var roleArn: String
    public var roleSessionName: String
    public var externalId: String?
    public var durationSeconds: Int?
    public var sourceCredentials: AWSCredentials
    public var region: String?
    public init(roleArn: String, roleSessionName: String, externalId: String? = nil, durationSeconds: Int? = nil,
                sourceCredentials: AWSCredentials, region: String?) {
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.sourceCredentials = sourceCredentials
        self.region = region
    }
}
public typealias AssumeRoleFunction = @Sendable (AssumeRoleRequest) async throws -> AWSCredentials

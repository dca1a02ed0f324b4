import Foundation
import AWSCredentials

/// STS over the Query protocol, API version 2011-06-15.
public struct STSClient: Sendable {
    public let client: AWSClient
    public static let apiVersion = "2011-06-15"

    public init(client: AWSClient) { self.client = client }

    public struct CallerIdentity: Sendable, Equatable {
        public var account: String
        public var arn: String
        public var userId: String
    }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let root = try await QueryProtocol.call(client: client, parameters: QueryParameters(action: "GetCallerIdentity", version: Self.apiVersion))
        return try QueryProtocol.read(client, "GetCallerIdentity") {
            guard let r = root.child("GetCallerIdentityResult"), let account = r.string("Account"), let arn = r.string("Arn") else {
                throw MissingField("Account/Arn", in: "GetCallerIdentity answer")
            }
            return CallerIdentity(account: account, arn: arn, userId: r.string("UserId") ?? "")
        }
    }

    /// Temporary credentials for `roleArn`. Signed with this client's own credentials.
    public func assumeRole(roleArn: String, roleSessionName: String, externalId: String? = nil,
                           durationSeconds: Int? = nil) async throws -> AWSCredentials {
        var p = QueryParameters(action: "AssumeRole", version: Self.apiVersion)
        p.add("RoleArn", roleArn)
        p.add("RoleSessionName", roleSessionName)
        p.add("ExternalId", externalId)
        p.add("DurationSeconds", durationSeconds)
        let root = try await QueryProtocol.call(client: client, parameters: p)
        return try QueryProtocol.read(client, "AssumeRole") {
            guard let c = root.at("AssumeRoleResult/Credentials"), let id = c.string("AccessKeyId"),
                  let secret = c.string("SecretAccessKey") else {
                throw MissingField("Credentials", in: "AssumeRole answer")
            }
            return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: c.string("SessionToken"),
                                  expiration: c.string("Expiration").flatMap(CredentialJSON.parseISO8601),
                                  source: "assume-role \(roleArn)")
        }
    }

    /// Temporary credentials for `roleArn` in exchange for an OIDC token (CI systems, EKS service accounts). The
    /// client must be built with `Options.unsigned`: this call carries no AWS signature.
    public func assumeRoleWithWebIdentity(roleArn: String, roleSessionName: String, webIdentityToken: String,
                                          durationSeconds: Int? = nil) async throws -> AWSCredentials {
        var p = QueryParameters(action: "AssumeRoleWithWebIdentity", version: Self.apiVersion)
        p.add("RoleArn", roleArn)
        p.add("RoleSessionName", roleSessionName)
        p.add("WebIdentityToken", webIdentityToken)
        p.add("DurationSeconds", durationSeconds)
        let root = try await QueryProtocol.call(client: client, parameters: p)
        return try QueryProtocol.read(client, "AssumeRoleWithWebIdentity") {
            guard let c = root.at("AssumeRoleWithWebIdentityResult/Credentials"), let id = c.string("AccessKeyId"),
                  let secret = c.string("SecretAccessKey") else {
                throw MissingField("Credentials", in: "AssumeRoleWithWebIdentity answer")
            }
            return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: c.string("SessionToken"),
                                  expiration: c.string("Expiration").flatMap(CredentialJSON.parseISO8601),
                                  source: "web-identity \(roleArn)")
        }
    }
}

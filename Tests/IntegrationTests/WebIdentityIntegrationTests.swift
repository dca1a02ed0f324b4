import Testing
import Foundation
import AWSCore
import AWSCredentials
import TestSupport

/// Web identity as a CI job with OIDC uses it: a token file and a role, exchanged with moto's STS through
/// AssumeRoleWithWebIdentity (unsigned), from the environment or from a profile.
@Suite struct WebIdentityIntegrationTests {
    func home(config: String) throws -> (env: [String: String], tokenFile: String) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-webid-\(UUID().uuidString)")
        let aws = home.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try config.write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let token = home.appendingPathComponent("oidc-token").path
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUifQ.c2lnbmF0dXJl\n".write(toFile: token, atomically: true, encoding: .utf8)
        return (["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"], token)
    }

    @Test func fromTheEnvironmentLikeACIJob() async throws {
        let local = try LocalAWS.shared()
        var (env, token) = try home(config: "")
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = token
        env["AWS_ROLE_ARN"] = local.roleArn
        env["AWS_ROLE_SESSION_NAME"] = "ci-run-42"
        env["AWS_REGION"] = local.region
        env["AWS_ENDPOINT_URL"] = local.endpoint
        let settings = try AWSSettings.resolve(environment: env)
        let session = try AWSSession(settings: settings)
        defer { session.shutdown() }
        let creds = try await session.credentials.credentials()
        #expect(creds.sessionToken != nil && creds.expiration != nil)
        #expect(creds.source.contains("web-identity") || creds.source.contains(local.roleArn))
        let identity = try await session.sts.getCallerIdentity()
        #expect(identity.arn.contains(":assumed-role/") && identity.arn.hasSuffix("/ci-run-42"), "\(identity.arn)")
    }

    @Test func fromAProfile() async throws {
        let local = try LocalAWS.shared()
        var (env, token) = try home(config: "")
        let config = """
            [profile oidc]
            role_arn = \(local.roleArn)
            web_identity_token_file = \(token)
            role_session_name = from-profile
            region = \(local.region)
            endpoint_url = \(local.endpoint)
            """
        try config.write(toFile: env["HOME"]! + "/.aws/config", atomically: true, encoding: .utf8)
        env["AWS_PROFILE"] = "oidc"
        let session = try AWSSession(settings: try AWSSettings.resolve(environment: env))
        defer { session.shutdown() }
        let identity = try await session.sts.getCallerIdentity()
        #expect(identity.arn.hasSuffix("/from-profile"), "\(identity.arn)")
    }

    @Test func aMissingTokenFileNamesWhereItWasSet() async throws {
        let local = try LocalAWS.shared()
        var (env, _) = try home(config: "")
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/nonexistent/token"
        env["AWS_ROLE_ARN"] = local.roleArn
        env["AWS_REGION"] = local.region
        env["AWS_ENDPOINT_URL"] = local.endpoint
        let session = try AWSSession(settings: try AWSSettings.resolve(environment: env))
        defer { session.shutdown() }
        do {
            _ = try await session.credentials.credentials()
            Issue.record("credentials without a token")
        } catch {
            #expect("\(error)".contains("/nonexistent/token") && "\(error)".contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "\(error)")
        }
    }
}

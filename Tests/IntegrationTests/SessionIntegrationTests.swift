import Testing
import Foundation
import AWSCore
import AWSCredentials
import TestSupport

/// The whole configuration path an operator uses: ~/.aws files, a profile with role_arn + source_profile,
/// resolved by AWSSettings and AWSSession, with AssumeRole answered by moto's STS.
@Suite struct SessionIntegrationTests {
    func home(config: String, credentials: String) throws -> [String: String] {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("clonectl-session-\(UUID().uuidString)")
        let aws = home.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try config.write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try credentials.write(to: aws.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        return ["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"]
    }

    @Test func assumeRoleThroughASourceProfile() async throws {
        let local = try LocalAWS.shared()
        let env = try home(
            config: """
            [profile base]
            region = \(local.region)
            endpoint_url = \(local.endpoint)

            [profile controller]
            role_arn = \(local.roleArn)
            source_profile = base
            role_session_name = clonectl-test
            region = \(local.region)
            endpoint_url = \(local.endpoint)
            """,
            credentials: """
            [base]
            aws_access_key_id = \(local.accessKeyId)
            aws_secret_access_key = \(local.secretAccessKey)
            """)
        let settings = try AWSSettings.resolve(ExplicitSettings(profile: "controller"), environment: env)
        let session = try AWSSession(settings: settings)
        defer { session.shutdown() }
        let creds = try await session.credentials.credentials()
        #expect(creds.accessKeyId != local.accessKeyId, "temporary credentials from STS, not the source key")
        #expect(creds.sessionToken != nil)
        #expect(creds.expiration != nil)
        #expect(!"\(creds)".contains(creds.secretAccessKey))
        let identity = try await session.sts.getCallerIdentity()
        #expect(identity.arn.contains(":assumed-role/clonectl-controller/clonectl-test"))
        // The assumed role's session token is signed into EC2 calls too.
        let instances = try await session.ec2.describeAllInstances(instanceIds: [local.sourceInstanceId])
        #expect(instances.count == 1)
    }

    @Test func endpointAndRegionFromEnvironmentLikeTheCLI() async throws {
        let local = try LocalAWS.shared()
        var env = try home(config: "", credentials: "")
        env["AWS_ACCESS_KEY_ID"] = local.accessKeyId
        env["AWS_SECRET_ACCESS_KEY"] = local.secretAccessKey
        env["AWS_DEFAULT_REGION"] = local.region
        env["AWS_ENDPOINT_URL_STS"] = local.endpoint
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"  // wrong for everything but STS: STS must use its own
        let settings = try AWSSettings.resolve(environment: env)
        #expect(try settings.endpoint(for: .sts).url.hasPrefix(local.endpoint))
        let session = try AWSSession(settings: settings)
        defer { session.shutdown() }
        let identity = try await session.sts.getCallerIdentity()
        #expect(identity.arn.hasSuffix(":user/clonectl"))
    }
}

@testable import AWSCredentials
import Foundation
import Testing

/// Web identity in the chain's order, and as the source of a role chain, with STS stubbed.
@Suite struct WebIdentityChainTests {
    static let webAnswer: AssumeRoleWithWebIdentityFunction = { request in
        #expect(request.webIdentityToken == "OIDC-TOKEN")
        return AWSCredentials(accessKeyId: "ASIAWEB-\(request.roleArn.split(separator: "/").last ?? "")", secretAccessKey: "S",
                              sessionToken: "T", source: "web")
    }

    func chain(_ home: TempHome, _ env: [String: String] = [:], profile: String? = nil,
               assumeRole: @escaping AssumeRoleFunction = noSTS) throws -> DefaultCredentialChain {
        let settings = try AWSSettings.resolve(ExplicitSettings(profile: profile, region: "us-east-1"), environment: home.environment(env))
        return DefaultCredentialChain(profileName: settings.profileName, profileExplicit: settings.profileExplicit,
                                      config: settings.config, environment: settings.environment, http: FakeTransport.unreachable(),
                                      assumeRole: assumeRole, region: "us-east-1", webIdentity: Self.webAnswer)
    }

    @Test func environmentBeatsProfileKeysAsInBotocore() async throws {
        let home = try TempHome()
        let token = try home.write("token", "OIDC-TOKEN\n")
        try home.writeCredentials("[default]\naws_access_key_id = STATIC\naws_secret_access_key = S\n")
        let creds = try await chain(home, ["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::1:role/ci"]).credentials()
        #expect(creds.accessKeyId == "ASIAWEB-ci")
        let noRole = await expectConfigError(.assumeRole) {
            _ = try await chain(home, ["AWS_WEB_IDENTITY_TOKEN_FILE": token]).credentials()
        }
        #expect(noRole.contains("AWS_ROLE_ARN"))
    }

    @Test func aWebIdentityProfileCanBeARoleChainsSource() async throws {
        let home = try TempHome()
        let token = try home.write("token", "OIDC-TOKEN")
        try home.writeConfig("""
            [profile oidc]
            role_arn = arn:aws:iam::1:role/ci
            web_identity_token_file = \(token)
            [profile deploy]
            role_arn = arn:aws:iam::2:role/deploy
            source_profile = oidc
            """)
        let creds = try await chain(home, profile: "deploy", assumeRole: { request in
            #expect(request.sourceCredentials.accessKeyId == "ASIAWEB-ci")
            return AWSCredentials(accessKeyId: "ASIADEPLOY", secretAccessKey: "S", sessionToken: "T", source: "x")
        }).credentials()
        #expect(creds.accessKeyId == "ASIADEPLOY")
    }
}

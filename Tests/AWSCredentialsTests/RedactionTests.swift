@testable import AWSCredentials
import Foundation
import Testing

@Suite struct RedactionTests {
    static let secrets = ["SECRETKEYVALUE", "SESSIONTOKENVALUE", "ENVSECRETVALUE", "CONTAINERTOKENVALUE", "pw-in-proxy"]

    /// Every way Swift turns a value into text.
    func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), String(reflecting: value), "\(value)", dumped]
    }

    @Test func nothingThatHoldsSecretsPrintsThem() throws {
        let home = try TempHome()
        try home.writeCredentials("[default]\naws_access_key_id = AKIDSHOWN\naws_secret_access_key = SECRETKEYVALUE\n"
            + "aws_session_token = SESSIONTOKENVALUE\n")
        let env = home.environment([
            "AWS_SECRET_ACCESS_KEY": "ENVSECRETVALUE", "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_REGION": "us-east-1",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "CONTAINERTOKENVALUE", "https_proxy": "http://u:pw-in-proxy@p:1",
        ])
        let settings = try AWSSettings.resolve(environment: env)
        let creds = AWSCredentials(accessKeyId: "AKIDSHOWN", secretAccessKey: "SECRETKEYVALUE",
                                   sessionToken: "SESSIONTOKENVALUE", source: "test")
        let http = FakeTransport.unreachable()
        let values: [Any] = [
            creds, settings, settings.profile, settings.config, settings.network,
            DefaultCredentialChain(profileName: "default", profileExplicit: false, config: settings.config,
                                   environment: env, http: http, assumeRole: noSTS, region: "us-east-1"),
            ProcessCredentialProvider(command: "helper --password SECRETKEYVALUE", profileName: "p", environment: env),
            ContainerCredentialProvider(environment: env, http: http),
            InstanceMetadataCredentialProvider(environment: env, http: http),
            StaticCredentialProvider(creds), [creds],
        ]
        for value in values {
            for text in renderings(value) {
                for secret in Self.secrets {
                    #expect(!text.contains(secret), "\(type(of: value)) printed \(secret): \(text)")
                }
            }
        }
        #expect(renderings(creds).allSatisfy { $0.contains("AKIDSHOWN") })
    }
}

@testable import AWSCredentials
import Foundation
import Testing

@Suite struct CredentialChainTests {
    @Test func environmentCredentialsComeFirst() async throws {
        let home = try TempHome()
        try home.writeCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n")
        let creds = try await chain(home, env: ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "ENVSECRET",
                                                "AWS_SESSION_TOKEN": "ENVTOKEN"]).credentials()
        #expect(creds.accessKeyId == "ENVKEY" && creds.secretAccessKey == "ENVSECRET")
        #expect(creds.sessionToken == "ENVTOKEN" && creds.source == "environment")
        let legacy = try await chain(home, env: ["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S",
                                                 "AWS_SECURITY_TOKEN": "LEGACY"]).credentials()
        #expect(legacy.sessionToken == "LEGACY")
    }

    @Test func partialEnvironmentIsAnError() async throws {
        let home = try TempHome()
        let message = await expectConfigError(.partialCredentials) {
            _ = try await chain(home, env: ["AWS_ACCESS_KEY_ID": "K"]).credentials()
        }
        #expect(message.contains("AWS_SECRET_ACCESS_KEY is not"))
        let other = await expectConfigError(.partialCredentials) {
            _ = try await chain(home, env: ["AWS_SECRET_ACCESS_KEY": "SUPERSECRET"]).credentials()
        }
        #expect(other.contains("but AWS_ACCESS_KEY_ID is not") && !other.contains("SUPERSECRET"))
    }

    @Test func explicitProfileSkipsEnvironment() async throws {
        let home = try TempHome()
        try home.writeCredentials("[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = DEVSECRET\n")
        let env = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "ENVSECRET"]
        #expect(try await chain(home, env: env, profile: "dev").credentials().accessKeyId == "DEVKEY")
        // AWS_PROFILE does not skip them, as with the CLI.
        #expect(try await chain(home, env: env.merging(["AWS_PROFILE": "dev"]) { $1 }).credentials().accessKeyId == "ENVKEY")
    }

    @Test func staticCredentialsFileThenConfigFile() async throws {
        let home = try TempHome()
        try home.writeCredentials("[dev]\naws_access_key_id = CREDKEY\naws_secret_access_key = CREDSECRET\n"
            + "aws_session_token = CREDTOKEN\n")
        try home.writeConfig("[profile dev]\naws_access_key_id = CFGKEY\naws_secret_access_key = CFGSECRET\n"
            + "[profile cfgonly]\naws_access_key_id = CFGKEY2\naws_secret_access_key = CFGSECRET2\n")
        let dev = try await chain(home, profile: "dev").credentials()
        #expect(dev.accessKeyId == "CREDKEY" && dev.sessionToken == "CREDTOKEN")
        #expect(dev.source == "shared-credentials-file profile dev")
        let cfg = try await chain(home, profile: "cfgonly").credentials()
        #expect(cfg.accessKeyId == "CFGKEY2" && cfg.secretAccessKey == "CFGSECRET2")
        #expect(cfg.source == "config-file profile cfgonly")
    }

    @Test func halfAKeyPairInAFileIsAnError() async throws {
        let home = try TempHome()
        try home.writeCredentials("[dev]\naws_access_key_id = ONLYKEY\n")
        let message = await expectConfigError(.partialCredentials) {
            _ = try await chain(home, profile: "dev").credentials()
        }
        #expect(message.contains("profile dev in ~/.aws/credentials has aws_access_key_id but no aws_secret_access_key"))
    }

    @Test func nothingAnywhereListsEveryPlace() async throws {
        let home = try TempHome()
        try home.writeConfig("[default]\nregion = us-east-1\n")
        let message = await expectConfigError(.noCredentials) {
            _ = try await chain(home).credentials()
        }
        #expect(message.contains("no AWS credentials found for profile default"))
        #expect(message.contains("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"))
        #expect(message.contains("profile default in ~/.aws/credentials and ~/.aws/config"))
        #expect(message.contains("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
        #expect(message.contains("EC2 instance metadata at http://169.254.169.254: not reachable"))
        #expect(message.contains("aws configure"))
    }

    @Test func descriptionsNeverShowSecrets() async throws {
        let home = try TempHome()
        try home.writeCredentials("[default]\naws_access_key_id = AKIDVISIBLE\naws_secret_access_key = HIDDENSECRET\n"
            + "aws_session_token = HIDDENTOKEN\n")
        let creds = try await chain(home).credentials()
        for text in [creds.description, creds.debugDescription, String(describing: creds), "\(creds)"] {
            #expect(text.contains("AKIDVISIBLE"))
            #expect(!text.contains("HIDDENSECRET") && !text.contains("HIDDENTOKEN"))
        }
    }

    @Test func settingsBuildARefreshingChain() async throws {
        let home = try TempHome()
        try home.writeCredentials("[default]\naws_access_key_id = K\naws_secret_access_key = S\n")
        let settings = try AWSSettings.resolve(ExplicitSettings(region: "us-east-1"), environment: home.environment())
        let provider = settings.makeCredentialProvider(http: FakeTransport.unreachable(), assumeRole: noSTS)
        #expect(try await provider.credentials().accessKeyId == "K")
        #expect(try await provider.credentials().accessKeyId == "K")
        #expect(await provider.fetchCount == 1)
    }
}

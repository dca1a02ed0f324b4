@testable import AWSCredentials
import Foundation
import Testing

@Suite struct SharedConfigTests {
    @Test func missingFilesAreEmpty() throws {
        let home = try TempHome()
        let config = try SharedConfig.load(environment: home.environment())
        #expect(config.profileNames.isEmpty)
        #expect(config.configLabel == "~/.aws/config")
        #expect(config.credentialsLabel == "~/.aws/credentials")
    }

    @Test func mergesBothFilesCredentialsFileWinning() throws {
        let home = try TempHome()
        try home.writeConfig("""
            [default]
            region = us-west-2
            [profile dev]
            region = eu-west-1
            output = json
            [sso-session corp]
            sso_region = us-east-1
            [profile default]
            output = text
            """)
        try home.writeCredentials("[dev]\nregion = eu-central-1\naws_access_key_id = AKIDEV\n[ci]\nx = 1\n")
        let config = try SharedConfig.load(environment: home.environment())
        #expect(config.profileNames == ["ci", "default", "dev"])
        let dev = config.profile("dev")
        #expect(dev["region"] == "eu-central-1")
        #expect(dev["output"] == "json")
        #expect(dev.origin(of: "region") == "profile dev in ~/.aws/credentials")
        // As in the AWS CLI, the later of [default] and [profile default] replaces the earlier whole, with a warning.
        #expect(config.profile("default")["output"] == "text")
        #expect(config.profile("default")["region"] == nil)
        #expect(config.warnings.contains { $0.contains("both [default] and [profile default]") })
    }

    @Test func environmentOverridesPathsWithTildeExpansion() throws {
        let home = try TempHome()
        try home.write("elsewhere/cfg", "[profile x]\nregion = ap-south-1\n")
        try home.write("elsewhere/creds", "[y]\naws_access_key_id = A\n")
        let config = try SharedConfig.load(environment: home.environment([
            "AWS_CONFIG_FILE": "~/elsewhere/cfg", "AWS_SHARED_CREDENTIALS_FILE": home.path + "/elsewhere/creds",
        ]))
        #expect(config.profileNames == ["x", "y"])
        #expect(config.configLabel == "~/elsewhere/cfg")
    }

    @Test func unknownProfileListsAvailableOnes() async throws {
        let home = try TempHome()
        try home.writeConfig("[profile prod]\nregion = us-east-1\n")
        try home.writeCredentials("[dev]\naws_access_key_id = A\naws_secret_access_key = S\n")
        let message = await expectConfigError(.unknownProfile) {
            _ = try AWSSettings.resolve(ExplicitSettings(profile: "stage", region: "us-east-1"),
                                        environment: home.environment())
        }
        #expect(message.contains("profile 'stage' not found"))
        #expect(message.contains("available profiles: dev, prod"))
        await expectConfigError(.unknownProfile) {
            _ = try AWSSettings.resolve(environment: home.environment(["AWS_PROFILE": "nope", "AWS_REGION": "us-east-1"]))
        }
    }

    @Test func configSectionWithoutProfileKeywordGetsAHint() async throws {
        let home = try TempHome()
        try home.writeConfig("[dev]\nregion = us-east-1\n[sso-session corp]\nsso_region = us-east-1\n")
        let message = await expectConfigError(.unknownProfile) {
            _ = try AWSSettings.resolve(ExplicitSettings(profile: "dev"), environment: home.environment())
        }
        #expect(message.contains("has a section [dev], but in the config file profiles are written [profile dev]"))
    }

    @Test func malformedFileErrorNamesFileAndLine() async throws {
        let home = try TempHome()
        try home.writeConfig("[default]\nregion = us-east-1\n\nthis is wrong\n")
        let message = await expectConfigError(.syntax) {
            _ = try SharedConfig.load(environment: home.environment())
        }
        #expect(message == "~/.aws/config line 4: expected 'key = value' or '[section]', found 'this is wrong'")
    }

    @Test func unreadableFileIsAClearError() async throws {
        let home = try TempHome()
        try FileManager.default.createDirectory(atPath: home.path + "/.aws/credentials", withIntermediateDirectories: true)
        let message = await expectConfigError(.unreadableFile) {
            _ = try SharedConfig.load(environment: home.environment())
        }
        #expect(message.contains("~/.aws/credentials is a directory"))
    }

    @Test func profileSelectionPrecedence() throws {
        let home = try TempHome()
        try home.writeConfig("[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-2\n[default]\nregion = eu-west-1\n")
        let env = home.environment(["AWS_PROFILE": "b"])
        #expect(try AWSSettings.resolve(ExplicitSettings(profile: "a"), environment: env).profileName == "a")
        #expect(try AWSSettings.resolve(ExplicitSettings(profile: "a"), environment: env).profileExplicit)
        let fromEnv = try AWSSettings.resolve(environment: env)
        #expect(fromEnv.profileName == "b" && !fromEnv.profileExplicit && fromEnv.region.name == "us-east-2")
        #expect(try AWSSettings.resolve(environment: home.environment()).profileName == "default")
    }
}

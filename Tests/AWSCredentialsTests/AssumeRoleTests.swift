@testable import AWSCredentials
import Foundation
import Testing

@Suite struct AssumeRoleTests {
    @Test func sourceProfileChainAssumesEachRoleInOrder() async throws {
        let home = try TempHome()
        try home.writeConfig("""
            [profile admin]
            role_arn = arn:aws:iam::111111111111:role/Admin
            source_profile = jump
            external_id = ext-123
            role_session_name = my-session
            duration_seconds = 1800
            region = eu-west-1
            [profile jump]
            role_arn = arn:aws:iam::222222222222:role/Jump
            source_profile = base
            """)
        try home.writeCredentials("[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = BASESECRET\n")
        let sts = FakeSTS()
        let creds = try await chain(home, profile: "admin", assumeRole: sts.function).credentials()
        #expect(creds.accessKeyId == "ASIA-Admin")
        #expect(creds.source == "assume-role arn:aws:iam::111111111111:role/Admin (profile admin)")
        let requests = sts.requests
        try #require(requests.count == 2)
        #expect(requests[0].roleArn == "arn:aws:iam::222222222222:role/Jump")
        #expect(requests[0].sourceCredentials.accessKeyId == "BASEKEY")
        #expect(requests[0].sourceCredentials.secretAccessKey == "BASESECRET")
        #expect(requests[0].roleSessionName.hasPrefix("clonectl-session-"))
        #expect(requests[1].roleArn == "arn:aws:iam::111111111111:role/Admin")
        #expect(requests[1].sourceCredentials.accessKeyId == "ASIA-Jump")
        #expect(requests[1].externalId == "ext-123")
        #expect(requests[1].roleSessionName == "my-session")
        #expect(requests[1].durationSeconds == 1800)
    }

    @Test func selfReferencingSourceProfileUsesItsOwnKeys() async throws {
        let home = try TempHome()
        try home.writeCredentials("[me]\naws_access_key_id = MYKEY\naws_secret_access_key = MYSECRET\n"
            + "role_arn = arn:aws:iam::1:role/R\nsource_profile = me\n")
        let sts = FakeSTS()
        let creds = try await chain(home, profile: "me", assumeRole: sts.function).credentials()
        #expect(creds.accessKeyId == "ASIA-R")
        #expect(sts.requests.map(\.sourceCredentials.accessKeyId) == ["MYKEY"])
    }

    @Test func cyclesAreDetected() async throws {
        let home = try TempHome()
        try home.writeConfig("""
            [profile a]
            role_arn = arn:aws:iam::1:role/A
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::1:role/B
            source_profile = a
            """)
        let message = await expectConfigError(.assumeRole) {
            _ = try await chain(home, profile: "a").credentials()
        }
        #expect(message.contains("source_profile loop: a -> b -> a"))
    }

    @Test func chainsDeeperThanTheLimitAreRefused() async throws {
        let home = try TempHome()
        var text = ""
        for i in 0..<12 { text += "[profile p\(i)]\nrole_arn = arn:aws:iam::1:role/R\(i)\nsource_profile = p\(i + 1)\n" }
        try home.writeConfig(text + "[profile p12]\naws_access_key_id = K\naws_secret_access_key = S\n")
        let message = await expectConfigError(.assumeRole) {
            _ = try await chain(home, profile: "p0").credentials()
        }
        #expect(message.contains("more than 10 profiles deep"))
    }

    @Test func misconfiguredRolesAreClearErrors() async throws {
        let home = try TempHome()
        try home.writeConfig("""
            [profile both]
            role_arn = arn:aws:iam::1:role/R
            source_profile = x
            credential_source = Environment
            [profile neither]
            role_arn = arn:aws:iam::1:role/R
            [profile badsource]
            role_arn = arn:aws:iam::1:role/R
            credential_source = Laptop
            [profile missing]
            role_arn = arn:aws:iam::1:role/R
            source_profile = ghost
            [profile empty]
            region = us-east-1
            [profile fromempty]
            role_arn = arn:aws:iam::1:role/R
            source_profile = empty
            """)
        #expect(await expectConfigError(.assumeRole) { _ = try await chain(home, profile: "both").credentials() }
            .contains("both source_profile and credential_source"))
        #expect(await expectConfigError(.assumeRole) { _ = try await chain(home, profile: "neither").credentials() }
            .contains("without source_profile or credential_source"))
        #expect(await expectConfigError(.invalidValue) { _ = try await chain(home, profile: "badsource").credentials() }
            .contains("Environment, Ec2InstanceMetadata or EcsContainer"))
        #expect(await expectConfigError(.unknownProfile) { _ = try await chain(home, profile: "missing").credentials() }
            .contains("profile 'ghost' not found"))
        #expect(await expectConfigError(.assumeRole) { _ = try await chain(home, profile: "fromempty").credentials() }
            .contains("source_profile empty"))
    }

    @Test func credentialSourceEnvironment() async throws {
        let home = try TempHome()
        try home.writeConfig("[profile r]\nrole_arn = arn:aws:iam::1:role/EnvRole\ncredential_source = Environment\n")
        let sts = FakeSTS()
        let creds = try await chain(home, env: ["AWS_ACCESS_KEY_ID": "EK", "AWS_SECRET_ACCESS_KEY": "ES"],
                                    profile: "r", assumeRole: sts.function).credentials()
        #expect(creds.accessKeyId == "ASIA-EnvRole")
        #expect(sts.requests.first?.sourceCredentials.accessKeyId == "EK")
        #expect(sts.requests.first?.region == "us-east-1")
    }

    @Test func credentialSourceEc2InstanceMetadata() async throws {
        let home = try TempHome()
        try home.writeConfig("[profile r]\nrole_arn = arn:aws:iam::1:role/Target\ncredential_source = Ec2InstanceMetadata\n")
        let sts = FakeSTS()
        let creds = try await chain(home, profile: "r", http: IMDSFake.transport(), assumeRole: sts.function).credentials()
        #expect(creds.accessKeyId == "ASIA-Target")
        #expect(sts.requests.first?.sourceCredentials.accessKeyId == IMDSFake.keyId)
    }

    @Test func stsFailureNamesRoleButNotSecret() async throws {
        let home = try TempHome()
        try home.writeCredentials("[r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = base\n"
            + "[base]\naws_access_key_id = K\naws_secret_access_key = TOPSECRET\n")
        struct Denied: Error, CustomStringConvertible { var description: String { "AccessDenied: not authorized" } }
        let message = await expectConfigError(.assumeRole) {
            _ = try await chain(home, profile: "r", assumeRole: { _ in throw Denied() }).credentials()
        }
        #expect(message.contains("assuming role arn:aws:iam::1:role/R for profile r"))
        #expect(message.contains("AccessDenied") && !message.contains("TOPSECRET"))
    }

    @Test func mfaSerialIsRefusedClearly() async throws {
        let home = try TempHome()
        try home.writeCredentials("[r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = r\nmfa_serial = arn:mfa\n"
            + "aws_access_key_id = K\naws_secret_access_key = S\n")
        #expect(await expectConfigError(.assumeRole) { _ = try await chain(home, profile: "r").credentials() }
            .contains("mfa_serial"))
    }
}

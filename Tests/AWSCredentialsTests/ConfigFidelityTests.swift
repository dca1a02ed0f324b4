@testable import AWSCredentials
import Foundation
import Testing

/// Where clonectl follows the AWS CLI (botocore 1.43's configloader, configprovider and args.py) and where it warns.
@Suite struct ConfigFidelityTests {
    func resolve(_ home: TempHome, _ env: [String: String] = [:], endpointURL: String? = nil,
                 allowInsecure: Bool = false) throws -> AWSSettings {
        try AWSSettings.resolve(ExplicitSettings(region: "eu-west-1", endpointURL: endpointURL, allowInsecureEndpoint: allowInsecure),
                                environment: home.environment(env))
    }

    @Test func servicesNamingAMissingSectionIsAnError() async throws {
        let home = try TempHome()
        try home.writeConfig("[default]\nservices = vpc-endpoints\n[services vpc-endpoint]\nssm =\n  endpoint_url = https://vpce.example\n")
        let message = await expectConfigError(.invalidValue) { _ = try resolve(home) }
        #expect(message.contains("services = vpc-endpoints") && message.contains("[services vpc-endpoint]"), "\(message)")
    }

    @Test func inlineCommentIsPartOfTheValueWithAWarning() throws {
        let home = try TempHome()
        try home.writeConfig("[default]\noutput = json # for scripts\nendpoint_url = https://h/#frag\n")
        let settings = try resolve(home)
        #expect(settings.profile["output"] == "json # for scripts")
        #expect(settings.warnings.count == 1 && settings.warnings[0].contains("line 2"), "\(settings.warnings)")
    }

    @Test func bothProfileVariablesDifferingWarns() throws {
        let home = try TempHome()
        try home.writeConfig("[profile a]\n[profile b]\n")
        let both = try resolve(home, ["AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"])
        #expect(both.profileName == "a")
        #expect(both.warnings.contains { $0.contains("AWS_PROFILE=a") && $0.contains("AWS_DEFAULT_PROFILE=b") })
        #expect(try resolve(home, ["AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "a"]).warnings.isEmpty)
    }

    @Test func stsRegionalEndpointsLegacyUsesTheGlobalHost() async throws {
        let home = try TempHome()
        try home.writeConfig("[default]\nsts_regional_endpoints = legacy\n")
        let sts = try resolve(home).endpoint(for: .sts)
        #expect(sts.url == "https://sts.amazonaws.com" && sts.signingRegion == "us-east-1")
        #expect(try resolve(home).endpoint(for: .ssm).url == "https://ssm.eu-west-1.amazonaws.com")
        // Regions that never used the global host, FIPS and the environment's override keep the regional one.
        let regional = try resolve(home, ["AWS_STS_REGIONAL_ENDPOINTS": "regional"]).endpoint(for: .sts)
        #expect(regional.url == "https://sts.eu-west-1.amazonaws.com" && regional.signingRegion == "eu-west-1")
        let newer = try AWSSettings.resolve(ExplicitSettings(region: "af-south-1"), environment: home.environment())
        #expect(try newer.endpoint(for: .sts).url == "https://sts.af-south-1.amazonaws.com")
        let bad = await expectConfigError(.invalidValue) { _ = try resolve(home, ["AWS_STS_REGIONAL_ENDPOINTS": "global"]) }
        #expect(bad.contains("regional or legacy"))
    }

    @Test func endpointPathKeepsItsTrailingSlash() throws {
        let home = try TempHome()
        #expect(try resolve(home, endpointURL: "https://proxy.example/aws/").endpoint(for: .ssm).url == "https://proxy.example/aws/")
        #expect(try resolve(home, endpointURL: "https://proxy.example/aws").endpoint(for: .ssm).url == "https://proxy.example/aws")
        #expect(try resolve(home, endpointURL: "https://proxy.example/").endpoint(for: .ssm).url == "https://proxy.example")
    }

    @Test func plainHTTPOnlyOnLoopbackUnlessAllowed() async throws {
        let home = try TempHome()
        for url in ["http://localhost:5000", "http://127.0.0.1:4566", "http://[::1]:5000", "https://vpce.example"] {
            #expect(try resolve(home, endpointURL: url).endpoint(for: .ec2).url == url)
        }
        let refused = await expectConfigError(.invalidEndpoint) { _ = try resolve(home, endpointURL: "http://10.0.0.5:5000") }
        #expect(refused.contains("--allow-insecure-endpoint") && refused.contains("in clear"))
        let fromEnv = await expectConfigError(.invalidEndpoint) {
            _ = try resolve(home, ["AWS_ENDPOINT_URL_SSM": "http://ssm.internal"]).endpoint(for: .ssm)
        }
        #expect(fromEnv.contains("AWS_ENDPOINT_URL_SSM"))
        #expect(try resolve(home, endpointURL: "http://10.0.0.5:5000", allowInsecure: true).endpoint(for: .ec2).url == "http://10.0.0.5:5000")
        #expect(!EndpointResolver.isLoopback("127.0.0.1.example.com") && !EndpointResolver.isLoopback("localhost.evil.com."))
    }

    @Test func anEmptyPortIsAnError() async throws {
        let home = try TempHome()
        let message = await expectConfigError(.invalidEndpoint) { _ = try resolve(home, endpointURL: "http://localhost:") }
        #expect(message.contains("no port"))
    }

    @Test func devNullIsNoFileAndOtherDevicesAreRefused() async throws {
        let home = try TempHome()
        let none = try AWSSettings.resolve(ExplicitSettings(region: "us-east-1"),
                                           environment: home.environment(["AWS_CONFIG_FILE": "/dev/null",
                                                                          "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"]))
        #expect(none.config.profileNames.isEmpty)
        let zero = await expectConfigError(.unreadableFile) {
            _ = try AWSSettings.resolve(environment: home.environment(["AWS_CONFIG_FILE": "/dev/zero"]))
        }
        #expect(zero.contains("not a regular file"))
    }
}

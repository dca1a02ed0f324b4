@testable import AWSCredentials
import Foundation
import Testing

@Suite struct RegionTests {
    @Test func precedence() async throws {
        let home = try TempHome()
        try home.writeConfig("[default]\nregion = eu-west-1\n")
        let all = home.environment(["AWS_REGION": "us-west-1", "AWS_DEFAULT_REGION": "us-west-2"])
        #expect(try AWSSettings.resolve(ExplicitSettings(region: "ap-south-1"), environment: all).region.name == "ap-south-1")
        #expect(try AWSSettings.resolve(environment: all).region == ResolvedRegion(name: "us-west-1", source: "AWS_REGION"))
        let noRegionVar = home.environment(["AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"])
        #expect(try AWSSettings.resolve(environment: noRegionVar).region.source == "AWS_DEFAULT_REGION")
        let fromFile = try AWSSettings.resolve(environment: home.environment()).region
        #expect(fromFile.name == "eu-west-1" && fromFile.source == "profile default in ~/.aws/config")
    }

    @Test func missingRegionSaysHowToFix() async throws {
        let home = try TempHome()
        try home.writeCredentials("[dev]\naws_access_key_id = K\naws_secret_access_key = S\n")
        let message = await expectConfigError(.noRegion) {
            _ = try AWSSettings.resolve(ExplicitSettings(profile: "dev"), environment: home.environment())
        }
        #expect(message.hasPrefix("no region: pass --region, set AWS_REGION, or add 'region = us-east-1'"))
        #expect(message.contains("profile dev in ~/.aws/config"))
    }

    @Test func validation() async throws {
        for good in ["us-east-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1",
                     "ap-southeast-5", "il-central-1"] {
            #expect(throws: Never.self) { try RegionResolver.validate(good, source: "test") }
        }
        let az = await expectConfigError(.invalidRegion) { try RegionResolver.validate("us-east-1a", source: "--region") }
        #expect(az.contains("availability zone") && az.contains("(us-east-1)") && az.contains("from --region"))
        #expect(await expectConfigError(.invalidRegion) { try RegionResolver.validate("US-EAST-1", source: "x") }
            .contains("lower case"))
        await expectConfigError(.invalidRegion) { try RegionResolver.validate("us-east", source: "x") }
        await expectConfigError(.invalidRegion) { try RegionResolver.validate("https://x", source: "x") }
    }
}

@Suite struct EndpointTests {
    func settings(_ home: TempHome, _ env: [String: String] = [:], region: String = "us-east-1",
                  endpointURL: String? = nil, profile: String? = nil, allowInsecure: Bool = true) throws -> AWSSettings {
        // These cases are about precedence, with made-up http:// hosts: the insecure-endpoint policy is tested
        // on its own in ConfigFidelityTests.
        try AWSSettings.resolve(ExplicitSettings(profile: profile, region: region, endpointURL: endpointURL,
                                                 allowInsecureEndpoint: allowInsecure),
                                environment: home.environment(env))
    }

    @Test func defaultsPerPartitionAndFIPS() throws {
        let home = try TempHome()
        #expect(try settings(home).endpoint(for: .ssm).url == "https://ssm.us-east-1.amazonaws.com")
        #expect(try settings(home).endpoint(for: .ec2).source == "default")
        #expect(try settings(home, region: "cn-north-1").endpoint(for: .ec2).url == "https://ec2.cn-north-1.amazonaws.com.cn")
        #expect(try settings(home, region: "eu-west-1").endpoint(for: .sts).host == "sts.eu-west-1.amazonaws.com")
        let fips = ["AWS_USE_FIPS_ENDPOINT": "true"]
        #expect(try settings(home, fips).endpoint(for: .ec2).url == "https://ec2-fips.us-east-1.amazonaws.com")
        #expect(try settings(home, fips).endpoint(for: .ssm).url == "https://ssm-fips.us-east-1.amazonaws.com")
        #expect(try settings(home, fips).endpoint(for: .sts).url == "https://sts-fips.us-east-1.amazonaws.com")
        for service in [ServiceEndpointInfo.ec2, .ssm, .sts] {
            #expect(try settings(home, fips, region: "us-gov-west-1").endpoint(for: service).url
                == "https://\(service.endpointPrefix).us-gov-west-1.amazonaws.com")
        }
        try home.writeConfig("[default]\nuse_fips_endpoint = true\n")
        #expect(try settings(home).endpoint(for: .ssm).host == "ssm-fips.us-east-1.amazonaws.com")
        // The environment variable beats the profile, also when it says false.
        #expect(try settings(home, ["AWS_USE_FIPS_ENDPOINT": "false"]).endpoint(for: .ssm).host == "ssm.us-east-1.amazonaws.com")
        #expect(EndpointResolver.defaultHost(.ec2, region: "us-isob-east-1", fips: false) == "ec2.us-isob-east-1.sc2s.sgov.gov")
    }

    /// IAM is global: one host per partition, signed for that partition's home region, whatever region is set.
    @Test func iamIsOneEndpointPerPartition() throws {
        let home = try TempHome()
        let east = try settings(home, region: "eu-west-1").endpoint(for: .iam)
        #expect(east.url == "https://iam.amazonaws.com" && east.signingRegion == "us-east-1")
        #expect(try settings(home, ["AWS_USE_FIPS_ENDPOINT": "true"], region: "us-west-2").endpoint(for: .iam).host == "iam-fips.amazonaws.com")
        let china = try settings(home, region: "cn-northwest-1").endpoint(for: .iam)
        #expect(china.host == "iam.cn-north-1.amazonaws.com.cn" && china.signingRegion == "cn-north-1")
        let gov = try settings(home, ["AWS_USE_FIPS_ENDPOINT": "true"], region: "us-gov-east-1").endpoint(for: .iam)
        #expect(gov.host == "iam.us-gov.amazonaws.com" && gov.signingRegion == "us-gov-west-1")
        // A configured endpoint still wins (the local AWS), signed for the region set.
        let local = try settings(home, ["AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:4566"], region: "eu-west-1").endpoint(for: .iam)
        #expect(local.source == "AWS_ENDPOINT_URL_IAM" && local.signingRegion == "eu-west-1")
    }

    @Test func precedenceOfConfiguredEndpoints() throws {
        let home = try TempHome()
        try home.writeConfig("""
            [default]
            services = local
            endpoint_url = http://profile-wide:1000
            [services local]
            ssm =
              endpoint_url = http://services-ssm:2000/
            """)
        var env: [String: String] = [:]
        let ssm = { try self.settings(home, env).endpoint(for: .ssm) }
        let ec2 = { try self.settings(home, env).endpoint(for: .ec2) }
        #expect(try ssm().url == "http://services-ssm:2000")
        #expect(try ssm().source.contains("[services local] of ~/.aws/config"))
        #expect(try ec2().url == "http://profile-wide:1000")
        env["AWS_ENDPOINT_URL"] = "http://global-env:3000"
        #expect(try ssm().url == "http://global-env:3000" && ssm().source == "AWS_ENDPOINT_URL")
        env["AWS_ENDPOINT_URL_SSM"] = "http://ssm-env:4000"
        #expect(try ssm().url == "http://ssm-env:4000" && ssm().source == "AWS_ENDPOINT_URL_SSM")
        #expect(try ec2().url == "http://global-env:3000")
        let flag = try settings(home, env, endpointURL: "http://flag:5000/").endpoint(for: .ssm)
        #expect(flag.url == "http://flag:5000" && flag.source == "--endpoint-url")
        #expect(flag.signingRegion == "us-east-1" && flag.signingName == "ssm")

        env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(try ssm().url == "https://ssm.us-east-1.amazonaws.com")
        #expect(try settings(home, env, endpointURL: "http://flag:5000").endpoint(for: .ssm).url == "http://flag:5000")
    }

    @Test func profileIgnoreFlag() throws {
        let home = try TempHome()
        try home.writeConfig("[default]\nendpoint_url = http://x:1\nignore_configured_endpoint_urls = true\n")
        #expect(try settings(home, ["AWS_ENDPOINT_URL_EC2": "http://y:2"]).endpoint(for: .ec2).source == "default")
        #expect(try settings(home, ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"]).endpoint(for: .ec2).url == "http://x:1")
    }

    @Test func invalidEndpointsNameTheirSource() async throws {
        let home = try TempHome()
        let flag = await expectConfigError(.invalidEndpoint) { _ = try settings(home, endpointURL: "localhost:5000") }
        #expect(flag.contains("from --endpoint-url"))
        let env = await expectConfigError(.invalidEndpoint) {
            _ = try settings(home, ["AWS_ENDPOINT_URL_STS": "ftp://x"]).endpoint(for: .sts)
        }
        #expect(env.contains("from AWS_ENDPOINT_URL_STS") && env.contains("not http or https"))
        try home.writeConfig("[profile p]\nendpoint_url = http://\n")
        let file = await expectConfigError(.invalidEndpoint) { _ = try settings(home, profile: "p").endpoint(for: .ec2) }
        #expect(file.contains("profile p in ~/.aws/config"))
        let secret = await expectConfigError(.invalidEndpoint) {
            _ = try settings(home, ["AWS_ENDPOINT_URL": "http://user:hunter2@host/"]).endpoint(for: .ec2)
        }
        #expect(!secret.contains("hunter2"))
    }

    @Test func serviceIdNaming() {
        let custom = ServiceEndpointInfo(serviceId: "Cost Explorer", endpointPrefix: "ce", signingName: "ce")
        #expect(custom.environmentVariable == "AWS_ENDPOINT_URL_COST_EXPLORER")
        #expect(custom.configKey == "cost_explorer")
        #expect(ServiceEndpointInfo.ssm.environmentVariable == "AWS_ENDPOINT_URL_SSM")
    }
}

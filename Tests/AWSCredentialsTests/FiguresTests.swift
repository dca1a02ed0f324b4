@testable import AWSCredentials
import Foundation
import Testing

/// Prints how long resolution takes on a large, realistic setup. Figures only: nothing here asserts a duration.
@Suite struct FiguresTests {
    @Test func resolutionFigures() async throws {
        let home = try TempHome()
        var config = ""
        var credentials = ""
        for i in 0..<1000 {
            config += "# team \(i)\n[profile p\(i)]\nregion = eu-west-1\nservices = s\(i)\n"
                + "role_arn = arn:aws:iam::\(i):role/R\nsource_profile = base\n\n[services s\(i)]\nssm =\n"
                + "  endpoint_url = http://ssm-\(i):5000\n"
            credentials += "[k\(i)]\naws_access_key_id = AKID\(i)\naws_secret_access_key = S\(i)\n"
        }
        try home.writeConfig(config)
        try home.writeCredentials(credentials + "[base]\naws_access_key_id = B\naws_secret_access_key = BS\n")
        let bytes = config.utf8.count + credentials.utf8.count

        let clock = ContinuousClock()
        var settings: AWSSettings?
        let rounds = 5
        let load = clock.measure {
            for _ in 0..<rounds { settings = try? AWSSettings.resolve(ExplicitSettings(profile: "p999", allowInsecureEndpoint: true), environment: home.environment()) }
        }
        let resolved = try #require(settings)
        #expect(resolved.config.profileNames.count == 2001)
        #expect(try resolved.endpoint(for: .ssm).url == "http://ssm-999:5000")

        let sts = FakeSTS()
        let provider = resolved.makeCredentialProvider(http: FakeTransport.unreachable(), assumeRole: sts.function)
        let first = try await clock.measure { _ = try await provider.credentials() }
        let calls = 10_000
        let cached = try await clock.measure { for _ in 0..<calls { _ = try await provider.credentials() } }
        #expect(sts.requests.count == 1)

        print("[figures] resolve settings from \(bytes / 1024) KiB of config (2001 profiles): "
            + "\(ms(load / rounds)) ms per resolve")
        print("[figures] first credentials through a role chain (fake STS): \(ms(first)) ms; "
            + "cached: \(String(format: "%.2f", Double((cached / calls).components.attoseconds) / 1e12)) µs per call")
    }

    func ms(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.2f", value)
    }
}

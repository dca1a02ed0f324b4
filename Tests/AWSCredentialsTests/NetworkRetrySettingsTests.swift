@testable import AWSCredentials
import Foundation
import Testing

@Suite struct NetworkRetrySettingsTests {
    func settings(_ home: TempHome, _ env: [String: String] = [:]) throws -> AWSSettings {
        try AWSSettings.resolve(ExplicitSettings(region: "us-east-1"), environment: home.environment(env))
    }

    @Test func proxiesAndNoProxy() throws {
        let home = try TempHome()
        let network = try settings(home, ["HTTPS_PROXY": "http://upper:1", "https_proxy": "http://user:pw123@lower:3128",
                                          "HTTP_PROXY": "proxy.local:8080", "NO_PROXY": "localhost, .internal,,127.0.0.1"]).network
        #expect(network.httpsProxy == "http://user:pw123@lower:3128")
        #expect(network.httpProxy == "http://proxy.local:8080")
        #expect(network.noProxy == ["localhost", ".internal", "127.0.0.1"])
        #expect(network.caBundlePath == nil)
        #expect(network.description.contains("http://***@lower:3128") && !network.description.contains("pw123"))
    }

    @Test func badProxyIsAClearErrorWithoutThePassword() async throws {
        let home = try TempHome()
        let message = await expectConfigError(.network) {
            _ = try settings(home, ["https_proxy": "ftp://bob:sesame@proxy:21"])
        }
        #expect(message.contains("https_proxy") && !message.contains("sesame"))
    }

    @Test func caBundleFromEnvironmentOrProfile() async throws {
        let home = try TempHome()
        let pem = try home.write("certs/corp.pem", "-----BEGIN CERTIFICATE-----\n")
        #expect(try settings(home, ["AWS_CA_BUNDLE": pem]).network.caBundlePath == pem)
        try home.writeConfig("[default]\nca_bundle = ~/certs/corp.pem\n")
        #expect(try settings(home).network.caBundlePath == pem)
        let message = await expectConfigError(.network) { _ = try settings(home, ["AWS_CA_BUNDLE": "/no/such.pem"]) }
        #expect(message.contains("/no/such.pem") && message.contains("AWS_CA_BUNDLE") && message.contains("does not exist"))
        try home.writeConfig("[default]\nca_bundle = ~/certs\n")
        #expect(await expectConfigError(.network) { _ = try settings(home) }.contains("not a readable file"))
    }

    @Test func retryModeAndMaxAttempts() async throws {
        let home = try TempHome()
        let defaults = try settings(home)
        #expect(defaults.retryMode == .standard && defaults.maxAttempts == nil)
        #expect(!defaults.retryModeExplicit, "unset: the session paces every API adaptively")
        try home.writeConfig("[default]\nretry_mode = adaptive\nmax_attempts = 7\n")
        let fromFile = try settings(home)
        #expect(fromFile.retryMode == .adaptive && fromFile.maxAttempts == 7 && fromFile.retryModeExplicit)
        let fromEnv = try settings(home, ["AWS_RETRY_MODE": "legacy", "AWS_MAX_ATTEMPTS": "2"])
        #expect(fromEnv.retryMode == .legacy && fromEnv.maxAttempts == 2 && fromEnv.retryModeExplicit)
        #expect(await expectConfigError(.invalidValue) { _ = try settings(home, ["AWS_RETRY_MODE": "turbo"]) }
            .contains("standard, adaptive or legacy"))
        #expect(await expectConfigError(.invalidValue) { _ = try settings(home, ["AWS_MAX_ATTEMPTS": "0"]) }
            .contains("AWS_MAX_ATTEMPTS"))
        try home.writeConfig("[default]\nmax_attempts = many\n")
        #expect(await expectConfigError(.invalidValue) { _ = try settings(home) }
            .contains("max_attempts = many in profile default in ~/.aws/config"))
    }
}

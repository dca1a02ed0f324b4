@testable import AWSHTTP
import Foundation
import Testing

/// Proxy and trust settings: read from the environment once, applied per request by URL scheme.
@Suite(.timeLimit(.minutes(1)))
struct CurlConfigurationTests {
    @Test func fromEnvironmentPrefersUpperCaseAndIgnoresEmpty() {
        let config = CurlTransportConfiguration.fromEnvironment([
            "HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128",
            "HTTP_PROXY": "", "http_proxy": "http://plain:8080",
            "no_proxy": "169.254.169.254,localhost", "AWS_CA_BUNDLE": "/etc/ca.pem",
        ])
        #expect(config.proxy == "http://upper:3128")
        #expect(config.httpProxy == "http://plain:8080")
        #expect(config.noProxy == "169.254.169.254,localhost")
        #expect(config.caBundlePath == "/etc/ca.pem")
        #expect(config.verbose == false)
        let empty = CurlTransportConfiguration.fromEnvironment([:])
        #expect(empty == CurlTransportConfiguration())
    }

    @Test func descriptionHidesProxyCredentials() {
        let config = CurlTransportConfiguration(proxy: "http://alice:s3cret@proxy.corp:3128",
                                                httpProxy: "http://proxy.corp:3128/a@b")
        #expect(!config.description.contains("s3cret"))
        #expect(!config.description.contains("alice"))
        #expect(config.description.contains("proxy.corp:3128"))
        #expect(config.description.contains("http://proxy.corp:3128/a@b"))
    }

    /// The fault server doubles as a forward proxy for plain http: curl sends it the absolute URL.
    @Test func httpProxyIsUsedForHttpURLsOnly() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(
            httpProxy: server.url("")))
        defer { transport.shutdown() }
        let proxied = try await transport.execute(
            HTTPRequest(method: "GET", url: "http://service.invalid/through?q=1"), options: HTTPRequestOptions())
        let echo = try Echo.decode(proxied)
        #expect(echo.path == "/through")
        #expect(echo.headers["host"] == "service.invalid")
        // An https URL does not use the http proxy: it goes direct and cannot resolve.
        let direct = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: "https://service.invalid/"),
                                        options: HTTPRequestOptions())
        }
        #expect(direct?.kind == .resolve)
        #expect(try await server.stats().requests == 1)
    }

    @Test func noProxyBypassesTheProxy() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(
            httpProxy: server.url(""), noProxy: "service.invalid"))
        defer { transport.shutdown() }
        let direct = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: "http://service.invalid/"),
                                        options: HTTPRequestOptions())
        }
        #expect(direct?.kind == .resolve)
        #expect(try await server.stats().requests == 0)
    }

    @Test func missingCABundleIsATLSError() async throws {
        let server = try FaultServer()
        // TLS setup fails before any byte is sent, so the plain-http fault server never sees a request.
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(
            caBundlePath: "/nonexistent/ca-bundle.pem"))
        defer { transport.shutdown() }
        let error = await transportError {
            try await transport.execute(HTTPRequest(method: "GET", url: "https://127.0.0.1:\(server.port)/"),
                                        options: HTTPRequestOptions(timeout: .seconds(10)))
        }
        #expect(error?.kind == .tls, "got \(String(describing: error))")
    }
}

/// The verbose trace goes to stderr, so what it may print is checked directly.
@Suite struct CurlTraceRedactionTests {
    @Test(arguments: [
        ("Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/...", "Authorization: <redacted>"),
        ("x-amz-security-token: FQoGZXIvYXdzE", "x-amz-security-token: <redacted>"),
        ("GET /bucket/key?X-Amz-Signature=abc&X-Amz-Security-Token=t HTTP/1.1", "GET /bucket/key?<redacted> HTTP/1.1"),
        ("Host: ec2.us-east-1.amazonaws.com", "Host: ec2.us-east-1.amazonaws.com"),
        ("Connected to 127.0.0.1 (127.0.0.1) port 8080 (#0)", "Connected to 127.0.0.1 (127.0.0.1) port 8080 (#0)"),
    ])
    func traceLinesAreRedacted(line: String, expected: String) {
        #expect(redactHeaderLine(line) == expected)
    }

    @Test func verboseTransportStillWorks() async throws {
        let server = try FaultServer()
        let transport = try CurlTransport(configuration: CurlTransportConfiguration(verbose: true))
        defer { transport.shutdown() }
        let response = try await transport.execute(
            HTTPRequest(method: "GET", url: server.url("/v?X-Amz-Signature=s"),
                        headers: [HTTPHeader("Authorization", "AWS4-HMAC-SHA256 Signature=s")]),
            options: HTTPRequestOptions())
        #expect(response.status == 200)
    }
}
